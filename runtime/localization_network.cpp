// The localizers' work that runs a network (runtime/localization.hpp): held-out scores
// and training, apart from localization.cpp as for detection and segmentation.
#include "runtime/localization.hpp"

#include <algorithm>

namespace kiln::localization {

Scores evaluate(const Network& net, const Parameters& params, const scenes::SceneSet& set, int batch) {
  std::vector<float> out(std::size_t(batch) * outputs);
  Scores s;
  for (int first = 0; first < set.count; first += batch) {
    const int n = std::min(batch, set.count - first);
    net.forward(params.data(), params.buffers(), set.image(first), n, out.data());
    for (int k = 0; k < n; ++k) {
      const metrics::Detection d = decode(out.data() + k * outputs, first + k);
      const scenes::SceneObject& truth = set.objects[first + k].front();
      const float iou = metrics::iou(d.box, truth.box);
      s.class_accuracy += d.class_id == truth.class_id;
      s.correct += d.class_id == truth.class_id && iou >= 0.5f;
      s.mean_iou += iou;
    }
  }
  for (double* v : {&s.correct, &s.class_accuracy, &s.mean_iou}) *v /= std::max(1, set.count);
  return s;
}

std::vector<Epoch> train(const Network& net, Parameters& params, const SceneSplit& split,
                         const StepLoop& loop, std::FILE* log) {
  const int S = image_size(net.view());
  const scenes::SceneSet held_out = held_out_objects(split, S);
  auto sample = [&](const scenes::SceneSet& one, int s, SplitMix64&, int32_t*, float* targets, float*) {
    encode(one.objects[0].front(), targets + s * 2 * outputs);
  };
  std::vector<Epoch> results;
  auto judge = [&](const EpochStats& stats) {
    const Scores scores = evaluate(net, params, held_out);
    results.push_back({stats, scores});
    return "held-out " + summary(scores);
  };
  train_on_scenes(net, params, split, loop, S, 1, sample, judge, log);
  return results;
}

}  // namespace kiln::localization
