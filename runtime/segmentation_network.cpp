// The segmentation work that runs a network (runtime/segmentation.hpp): per-pixel
// classes of many images, the confusion matrix of a scene set, training. Apart from
// segmentation.cpp, so that a program that only draws and names classes links no
// generated code.
#include "runtime/segmentation.hpp"

#include <algorithm>

namespace kiln {

namespace {
constexpr int classes = 1 + scenes::class_count;
}  // namespace

std::vector<uint8_t> predict_classes(const Network& net, const Parameters& params,
                                     const float* images, int count, int batch) {
  const int S = segmentation_size(net.view());
  const std::size_t pixels = std::size_t(S) * S;
  std::vector<float> logits(std::size_t(batch) * classes * pixels);
  std::vector<uint8_t> out(std::size_t(count) * pixels);
  for (int first = 0; first < count; first += batch) {
    const int n = std::min(batch, count - first);
    net.forward(params.data(), params.buffers(), images + std::size_t(first) * 3 * pixels, n,
                logits.data());
    for (int s = 0; s < n; ++s)
      for (std::size_t p = 0; p < pixels; ++p) {
        const float* at = logits.data() + std::size_t(s) * classes * pixels + p;
        int best = 0;  // logits [K, S, S]: class k of pixel p at k * pixels
        for (int k = 1; k < classes; ++k)
          if (at[k * pixels] > at[best * pixels]) best = k;
        out[(std::size_t(first) + s) * pixels + p] = uint8_t(best);
      }
  }
  return out;
}

metrics::ConfusionMatrix evaluate_segmentation(const Network& net, const Parameters& params,
                                               const scenes::SceneSet& set, int batch) {
  metrics::ConfusionMatrix matrix(classes);
  matrix.add(predict_classes(net, params, set.images.data(), set.count, batch), set.semantic);
  return matrix;
}

std::vector<SegmentationEpoch> train_segmentation(const Network& net, Parameters& params,
                                                  const SceneSplit& split, const StepLoop& loop,
                                                  std::FILE* log) {
  const int S = segmentation_size(net.view());
  const scenes::SceneSet held_out = held_out_scenes(net.view(), split);
  const std::size_t pixels = std::size_t(S) * S;
  auto fill = [&](SplitMix64& rng, float* input, int32_t* labels, float*, float*) {
    for (int s = 0; s < loop.batch; ++s) {
      const int index = int(rng.below(uint32_t(split.train_scenes)));
      const scenes::SceneSet one = scenes::make_scenes(1, S, split.seed, index);
      std::copy(one.images.begin(), one.images.end(), input + s * one.image_size());
      std::copy(one.semantic.begin(), one.semantic.end(), labels + s * pixels);
    }
  };
  std::vector<SegmentationEpoch> results;
  auto done = [&](const EpochStats& stats) {
    const metrics::ConfusionMatrix m = evaluate_segmentation(net, params, held_out);
    results.push_back({stats, m.mean_iou(), m.iou()});
    return "held-out " + iou_summary(m);
  };
  const EpochPlan plan{.steps = std::max(1, split.epoch_scenes / loop.batch)};
  run_steps(net, params, loop, plan, fill, done, log);
  return results;
}

}  // namespace kiln
