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

void train_on_scenes(const Network& net, Parameters& params, const SceneSplit& split, const StepLoop& loop,
                     int size, int most_objects, const SceneSample& sample, const EpochDone& judge, std::FILE* log) {
  auto fill = [&](SplitMix64& rng, float* input, int32_t* labels, float* targets, float* rois) {
    for (int s = 0; s < loop.batch; ++s) {
      const int index = int(rng.below(uint32_t(split.train_scenes)));
      const scenes::SceneSet one = scenes::make_scenes(1, size, split.seed, index, most_objects);
      std::copy(one.images.begin(), one.images.end(), input + s * one.image_size());
      sample(one, s, rng, labels, targets, rois);
    }
  };
  run_steps(net, params, loop, {.steps = std::max(1, split.epoch_scenes / loop.batch)}, fill, judge, log);
}

std::vector<SegmentationEpoch> train_segmentation(const Network& net, Parameters& params,
                                                  const SceneSplit& split, const StepLoop& loop,
                                                  std::FILE* log) {
  const int S = segmentation_size(net.view());
  const scenes::SceneSet held_out = held_out_scenes(net.view(), split);
  const std::size_t pixels = std::size_t(S) * S;
  auto sample = [&](const scenes::SceneSet& one, int s, SplitMix64&, int32_t* labels, float*, float*) {
    std::copy(one.semantic.begin(), one.semantic.end(), labels + s * pixels);
  };
  std::vector<SegmentationEpoch> results;
  auto judge = [&](const EpochStats& stats) {
    const metrics::ConfusionMatrix m = evaluate_segmentation(net, params, held_out);
    results.push_back({stats, m.mean_iou(), m.iou()});
    return "held-out " + iou_summary(m);
  };
  train_on_scenes(net, params, split, loop, S, scenes::max_objects, sample, judge, log);
  return results;
}

}  // namespace kiln
