// The two-stage detector's work that runs a network (runtime/two_stage.hpp): two calls
// per batch to detect, held-out scores, training; apart from two_stage.cpp as for the
// other detectors.
#include "runtime/two_stage.hpp"

#include "runtime/anchors.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::two_stage {

namespace {
constexpr int C = scenes::class_count;
constexpr int mask_bins = mask_side * mask_side;
}  // namespace

Found detect(const Network& net, const Parameters& params, const float* images, int count, float min_score,
             int max_per_image, int batch) {
  const Layout l = layout_of(net.view());
  const std::size_t image_floats = std::size_t(3) * l.size * l.size, F = l.output_floats();
  const std::size_t pixels = std::size_t(l.size) * l.size;
  std::vector<float> out(std::size_t(batch) * F), rois(std::size_t(batch) * l.regions * 4);
  Found found;
  for (int first = 0; first < count; first += batch) {
    const int n = std::min(batch, count - first);
    const float* x = images + first * image_floats;
    // First call: the proposals (the regions unused: empty).
    for (int r = 0; r < n * l.regions; ++r)
      std::copy(&proposals::no_region.x0, &proposals::no_region.x0 + 4, rois.data() + 4 * r);
    net.forward(params.data(), params.buffers(), x, n, out.data(), rois.data());
    std::vector<std::vector<metrics::Box>> regions(n);
    for (int s = 0; s < n; ++s) {
      regions[s] = proposals::propose(l.rpn, out.data() + s * F, l.size, l.regions);
      for (int r = 0; r < l.regions; ++r) {
        const metrics::Box& b = regions[s][r];
        const float corners[4] = {b.x0, b.y0, b.x1, b.y1};
        std::copy(corners, corners + 4, rois.data() + (std::size_t(s) * l.regions + r) * 4);
      }
    }
    // Second call: each region's class, box and mask.
    net.forward(params.data(), params.buffers(), x, n, out.data(), rois.data());
    for (int s = 0; s < n; ++s) {
      std::vector<metrics::Box> boxes;
      std::vector<float> scores;
      std::vector<int> classes, region_of;
      for (int r = 0; r < l.regions; ++r) {
        const metrics::Box& roi = regions[s][r];
        if (proposals::is_no_region(roi)) continue;
        const float* numbers = out.data() + s * F + l.rpn_floats() + std::size_t(r) * box_numbers;
        const int k = int(std::max_element(numbers, numbers + C) - numbers);
        const float score = metrics::sigmoid(numbers[k]);
        if (!(score >= min_score)) continue;
        const metrics::Box box = metrics::clipped(
            anchors::decode(roi, {numbers[C], numbers[C + 1], numbers[C + 2], numbers[C + 3]}, box_weights),
            float(l.size));
        if (!(box.x1 > box.x0 && box.y1 > box.y0)) continue;
        boxes.push_back(box);
        scores.push_back(score);
        classes.push_back(k);
        region_of.push_back(r);
      }
      const std::vector<int> kept = metrics::nms_per_class(boxes, scores, classes, 0.5f);
      for (std::size_t q = 0; q < kept.size() && int(q) < max_per_image; ++q) {
        const int d = kept[q], r = region_of[d];
        found.detections.push_back({first + s, classes[d], scores[d], boxes[d]});
        // The mask, pasted over its region: each pixel reads the bin its centre falls in.
        const metrics::Box& roi = regions[s][r];
        const float* logits = out.data() + s * F + l.rpn_floats() + l.box_floats() + std::size_t(r) * mask_bins;
        const std::size_t at = found.masks.size();
        found.masks.resize(at + pixels, 0);
        const float rw = roi.x1 - roi.x0, rh = roi.y1 - roi.y0;
        for (int y = std::max(0, int(roi.y0)); y < std::min(l.size, int(std::ceil(roi.y1))); ++y)
          for (int x = std::max(0, int(roi.x0)); x < std::min(l.size, int(std::ceil(roi.x1))); ++x) {
            const int u = int((x + 0.5f - roi.x0) / rw * mask_side), v = int((y + 0.5f - roi.y0) / rh * mask_side);
            if (u < 0 || v < 0 || u >= mask_side || v >= mask_side) continue;
            found.masks[at + std::size_t(y) * l.size + x] = logits[v * mask_side + u] > 0 ? 1 : 0;
          }
      }
    }
  }
  return found;
}

Scores evaluate(const Network& net, const Parameters& params, const scenes::SceneSet& set) {
  const Found found = detect(net, params, set.images.data(), set.count);
  std::vector<metrics::GroundTruth> truths;
  std::vector<uint8_t> truth_masks;
  for (int i = 0; i < set.count; ++i)
    for (std::size_t k = 0; k < set.objects[i].size(); ++k) {
      truths.push_back({i, set.objects[i][k].class_id, set.objects[i][k].box});
      const uint8_t* instances = set.instance_mask(i);
      for (std::size_t p = 0; p < set.mask_size(); ++p) truth_masks.push_back(instances[p] == k + 1 ? 1 : 0);
    }
  return {metrics::box_map(found.detections, truths, C),
          metrics::mask_map(found.detections, truths, found.masks, truth_masks, set.mask_size(), C)};
}

std::vector<Epoch> train(const Network& net, Parameters& params, const SceneSplit& split, const StepLoop& loop,
                         std::FILE* log) {
  const Layout l = layout_of(net.view());
  const scenes::SceneSet held_out = scenes::make_scenes(split.held_out, l.size, split.seed, split.train_scenes);
  const std::size_t F = l.output_floats();
  auto sample = [&](const scenes::SceneSet& one, int s, SplitMix64& rng, int32_t*, float* targets, float* rois) {
    training_sample(l, one, 0, rng, rois + std::size_t(s) * l.regions * 4, targets + s * 2 * F);
  };
  std::vector<Epoch> results;
  auto judge = [&](const EpochStats& stats) {
    const Scores scores = evaluate(net, params, held_out);
    results.push_back({stats, scores});
    return "held-out " + summary(scores);
  };
  train_on_scenes(net, params, split, loop, l.size, scenes::max_objects, sample, judge, log);
  return results;
}

}  // namespace kiln::two_stage
