#include "runtime/proposals.hpp"

#include "runtime/anchors.hpp"
#include "runtime/error.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::proposals {

Layout layout_for(int image_size, int grid, std::span<const float> sizes) {
  if (image_size <= 0 || grid <= 0) fail("proposals: image size {} and grid {} must be positive", image_size, grid);
  Layout l;
  l.grid = grid;
  l.stride = float(image_size) / float(grid);
  l.sizes.assign(sizes.begin(), sizes.end());
  const float square[] = {1.0f};
  l.anchors = anchors::grid_anchors(grid, grid, l.stride, sizes, square);
  return l;
}

void encode_targets(const Layout& l, std::span<const metrics::Box> boxes, float* targets, const Matching& m) {
  for (const metrics::Box& b : boxes) {
    metrics::check_box(b, "proposal targets");
  }
  const std::size_t plane = std::size_t(l.channels()) * l.grid * l.grid;
  std::fill(targets, targets + 2 * plane, 0.0f);
  const int A = l.anchors_per_cell();
  // Per anchor its best box and IoU; per box its best anchor.
  std::vector<int> best_box(l.anchors.size(), -1);
  std::vector<float> best_iou(l.anchors.size(), 0.0f);
  std::vector<int> best_anchor(boxes.size(), 0);
  std::vector<float> anchor_iou(boxes.size(), -1.0f);
  for (std::size_t k = 0; k < l.anchors.size(); ++k)
    for (std::size_t b = 0; b < boxes.size(); ++b) {
      const float iou = metrics::iou(l.anchors[k], boxes[b]);
      if (iou > best_iou[k]) best_iou[k] = iou, best_box[k] = int(b);
      if (iou > anchor_iou[b]) anchor_iou[b] = iou, best_anchor[b] = int(k);
    }
  std::vector<bool> positive(l.anchors.size());
  for (std::size_t k = 0; k < l.anchors.size(); ++k) positive[k] = best_box[k] >= 0 && best_iou[k] >= m.positive_iou;
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    positive[best_anchor[b]] = true;
    best_box[best_anchor[b]] = int(b);  // a box's own best anchor answers for it
  }
  for (std::size_t k = 0; k < l.anchors.size(); ++k) {
    const int cell = int(k) / A, a = int(k) % A, i = cell / l.grid, j = cell % l.grid;
    float* value = targets;
    float* weight = targets + plane;
    if (positive[k]) {
      const anchors::Delta d = anchors::encode(l.anchors[k], boxes[best_box[k]]);
      const float numbers[Layout::per_anchor] = {1, d.dx, d.dy, d.dw, d.dh};
      for (int n = 0; n < Layout::per_anchor; ++n) {
        value[l.at(a, n, i, j)] = numbers[n];
        weight[l.at(a, n, i, j)] = 1;
      }
    } else if (best_iou[k] < m.negative_iou) {
      weight[l.at(a, 0, i, j)] = 1;  // objectness 0
    }
  }
}

std::vector<metrics::Box> propose(const Layout& l, const float* head, int image_size, int count, float nms_iou) {
  const int A = l.anchors_per_cell();
  const float size = float(image_size);
  std::vector<metrics::Box> boxes;
  std::vector<float> scores;
  for (std::size_t k = 0; k < l.anchors.size(); ++k) {
    const int cell = int(k) / A, a = int(k) % A, i = cell / l.grid, j = cell % l.grid;
    const float score = head[l.at(a, 0, i, j)];
    if (std::isnan(score)) continue;  // a diverged head proposes nothing from that anchor
    const anchors::Delta d{head[l.at(a, 1, i, j)], head[l.at(a, 2, i, j)], head[l.at(a, 3, i, j)],
                           head[l.at(a, 4, i, j)]};
    metrics::Box b = anchors::decode(l.anchors[k], d);
    b = metrics::clipped(b, size);
    if (!(b.x1 - b.x0 >= 1 && b.y1 - b.y0 >= 1)) continue;
    boxes.push_back(b);
    scores.push_back(score);
  }
  std::vector<metrics::Box> out;
  for (int k : metrics::nms(boxes, scores, nms_iou)) {
    if (int(out.size()) == count) break;
    out.push_back(boxes[k]);
  }
  out.resize(std::size_t(std::max(count, 0)), no_region);
  return out;
}

}  // namespace kiln::proposals
