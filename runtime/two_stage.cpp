#include "runtime/two_stage.hpp"

#include "runtime/anchors.hpp"
#include "runtime/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace kiln::two_stage {

namespace {
constexpr int C = scenes::class_count;
constexpr int mask_bins = mask_side * mask_side;
}  // namespace

Layout layout_of(const ModelView& model) {
  const Shape in = model.input_shape(), out = model.output_shape();
  const int R = region_count(model);
  auto fail_layout = [&] {
    fail("{} is not a two-stage scene detector (3 x S x S images and regions in; proposals, boxes and "
         "{} x {} masks out)", model.name, mask_side, mask_side);
  };
  if (!in.is_image() || in.channels() != 3 || in.height() != in.width() || R <= 0 || !out.is_flat()) fail_layout();
  const long long per_cell = 3 * proposals::Layout::per_anchor;
  const long long rpn = out[0] - (long long)R * (box_numbers + mask_bins);
  const int grid = int(std::lround(std::sqrt(double(std::max(rpn, 0LL)) / per_cell)));
  if (rpn <= 0 || grid * grid * per_cell != rpn || in.height() % grid != 0) fail_layout();
  Layout l;
  l.size = in.height();
  l.regions = R;
  l.rpn = proposals::layout_for(l.size, grid, scenes::anchor_sizes(3));
  return l;
}

void training_sample(const Layout& l, const scenes::SceneSet& set, int index, SplitMix64& rng, float* rois,
                     float* targets, const LossWeights& w) {
  const auto& objects = set.objects[index];
  const std::size_t F = l.output_floats();
  float* value = targets;
  float* weight = targets + F;
  std::fill(targets, targets + 2 * F, 0.0f);
  // The proposal head: Faster R-CNN's matching, weighed.
  std::vector<metrics::Box> boxes;
  for (const scenes::SceneObject& o : objects) boxes.push_back(o.box);
  std::vector<float> rpn(2 * l.rpn_floats());
  proposals::encode_targets(l.rpn, boxes, rpn.data());
  const std::size_t cells = std::size_t(l.rpn.grid) * l.rpn.grid;
  for (std::size_t k = 0; k < l.rpn_floats(); ++k) {
    value[k] = rpn[k];
    weight[k] = rpn[l.rpn_floats() + k] * (k / cells % proposals::Layout::per_anchor == 0 ? w.objectness : w.proposal_box);
  }
  // The regions: the true boxes and jittered copies of them, then negatives.
  const float S = float(l.size);
  std::vector<std::pair<metrics::Box, int>> picked;  // region, object (-1: background)
  for (int round = 0; round < 3; ++round)
    for (std::size_t k = 0; k < objects.size() && int(picked.size()) < l.regions / 2; ++k) {
      const metrics::Box& b = objects[k].box;
      if (round == 0) {
        picked.push_back({b, int(k)});
        continue;
      }
      const float bw = b.x1 - b.x0, bh = b.y1 - b.y0;
      for (int tries = 0; tries < 10; ++tries) {
        auto jitter = [&](float side) { return (rng.uniform(0, 1) - 0.5f) * 0.3f * side; };
        const metrics::Box j = metrics::clipped({b.x0 + jitter(bw), b.y0 + jitter(bh), b.x1 + jitter(bw), b.y1 + jitter(bh)}, S);
        if (j.x1 - j.x0 >= 1 && j.y1 - j.y0 >= 1 && metrics::iou(j, b) >= 0.6f) {
          picked.push_back({j, int(k)});
          break;
        }
      }
    }
  while (int(picked.size()) < l.regions) {
    metrics::Box found = proposals::no_region;
    for (int tries = 0; tries < 50; ++tries) {
      const float bw = rng.uniform(8, 64), bh = rng.uniform(8, 64);
      const float x0 = rng.uniform(0, S - bw), y0 = rng.uniform(0, S - bh);
      const metrics::Box b{x0, y0, x0 + bw, y0 + bh};
      float most = 0;
      for (const metrics::Box& t : boxes) most = std::max(most, metrics::iou(b, t));
      if (most < 0.4f) {
        found = b;
        break;
      }
    }
    picked.push_back({found, -1});
  }
  const uint8_t* instances = set.instance_mask(index);
  for (int r = 0; r < l.regions; ++r) {
    const auto& [roi, k] = picked[r];
    const float corners[4] = {roi.x0, roi.y0, roi.x1, roi.y1};
    std::copy(corners, corners + 4, rois + 4 * r);
    if (proposals::is_no_region(roi)) continue;  // not trained
    float* box_value = value + l.rpn_floats() + std::size_t(r) * box_numbers;
    float* box_weight = weight + l.rpn_floats() + std::size_t(r) * box_numbers;
    for (int c = 0; c < C; ++c) {
      box_value[c] = k >= 0 && objects[k].class_id == c ? 1.0f : 0.0f;
      box_weight[c] = w.classes;
    }
    if (k < 0) continue;  // background: its class scores only
    const anchors::Delta d = anchors::encode(roi, objects[k].box, box_weights);
    const float deltas[4] = {d.dx, d.dy, d.dw, d.dh};
    for (int j = 0; j < 4; ++j) {
      box_value[C + j] = deltas[j];
      box_weight[C + j] = w.box;
    }
    // The mask: whether the object covers each bin's centre.
    float* mask_value = value + l.rpn_floats() + l.box_floats() + std::size_t(r) * mask_bins;
    float* mask_weight = weight + l.rpn_floats() + l.box_floats() + std::size_t(r) * mask_bins;
    for (int v = 0; v < mask_side; ++v)
      for (int u = 0; u < mask_side; ++u) {
        const int x = std::clamp(int(roi.x0 + (u + 0.5f) * (roi.x1 - roi.x0) / mask_side), 0, l.size - 1);
        const int y = std::clamp(int(roi.y0 + (v + 0.5f) * (roi.y1 - roi.y0) / mask_side), 0, l.size - 1);
        mask_value[v * mask_side + u] = instances[std::size_t(y) * l.size + x] == k + 1 ? 1.0f : 0.0f;
        mask_weight[v * mask_side + u] = w.mask;
      }
  }
}

std::string summary(const Scores& s) {
  std::string line = fmt::format("box mAP@0.5 {:.4f} (", s.box_map.mean);
  for (int k = 0; k < C; ++k)
    line += fmt::format("{}{} {:.4f}", k ? ", " : "", scenes::class_names[k], s.box_map.per_class[k]);
  return line + fmt::format("), mask AP@0.5 {:.4f}", s.mask_map.mean);
}

}  // namespace kiln::two_stage
