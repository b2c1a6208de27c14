// The detectors' work that runs a network (runtime/detection.hpp): detections of many
// images, mAP on a scene set, training. Apart from detection.cpp, so that a program
// that only encodes and decodes boxes links no generated code.
#include "runtime/detection.hpp"

#include <algorithm>

namespace kiln::detection {

namespace {
constexpr int C = scenes::class_count;
}  // namespace

std::vector<metrics::Detection> detect(const Network& net, const Parameters& params,
                                       const float* images, int count, const DecodeSettings& s,
                                       int batch) {
  const Layout l = layout_of(net.view());
  const std::size_t image_floats = std::size_t(3) * l.size * l.size,
                    head_floats = std::size_t(l.channels()) * l.cells();
  std::vector<float> heads(std::size_t(batch) * head_floats);
  std::vector<metrics::Detection> out;
  for (int first = 0; first < count; first += batch) {
    const int n = std::min(batch, count - first);
    net.forward(params.data(), params.buffers(), images + first * image_floats, n, heads.data());
    for (int k = 0; k < n; ++k) {
      const auto found = decode(l, heads.data() + k * head_floats, first + k, s);
      out.insert(out.end(), found.begin(), found.end());
    }
  }
  return out;
}

DetectionScores evaluate_detection(const Network& net, const Parameters& params,
                                   const scenes::SceneSet& set, int batch) {
  const std::vector<metrics::Detection> found = detect(net, params, set.images.data(), set.count, {}, batch);
  std::vector<metrics::GroundTruth> truths;
  for (int i = 0; i < set.count; ++i)
    for (const scenes::SceneObject& o : set.objects[i]) truths.push_back({i, o.class_id, o.box});
  return {metrics::box_map(found, truths, C), metrics::box_map(found, truths, C, metrics::iou_50_95)};
}

std::vector<DetectionEpoch> train_detection(const Network& net, Parameters& params,
                                            const SceneSplit& split, const StepLoop& loop,
                                            std::FILE* log) {
  const Layout l = layout_of(net.view());
  const scenes::SceneSet held_out = scenes::make_scenes(split.held_out, l.size, split.seed, split.train_scenes);
  const std::size_t target_floats = std::size_t(net.targets_size());
  auto sample = [&](const scenes::SceneSet& one, int s, SplitMix64&, int32_t*, float* targets, float*) {
    encode_targets(l, one.objects[0], targets + s * target_floats);
  };
  std::vector<DetectionEpoch> results;
  auto judge = [&](const EpochStats& stats) {
    const DetectionScores scores = evaluate_detection(net, params, held_out);
    results.push_back({stats, scores});
    return "held-out " + map_summary(scores);
  };
  train_on_scenes(net, params, split, loop, l.size, scenes::max_objects, sample, judge, log);
  return results;
}

}  // namespace kiln::detection
