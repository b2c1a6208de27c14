// The first stage of a two-stage detector (Faster R-CNN's region proposal network): a
// head of A square anchors per cell of a G x G grid, 5 numbers each (the objectness
// logit, then the deltas dx, dy, dw, dh of anchors::encode toward a box), channel
// a 5 + k of the head [5 A, G, G]. Its training targets, and the regions it proposes
// to the second stage (roi_align's list).
#pragma once
#include "runtime/metrics.hpp"

#include <span>
#include <vector>

namespace kiln::proposals {

struct Layout {
  int grid = 0;       // G x G cells
  float stride = 0;   // pixels per cell
  std::vector<float> sizes;            // the A anchor sides per cell
  std::vector<metrics::Box> anchors;   // anchors::grid_anchors order: cells row by row, then sizes
  static constexpr int per_anchor = 5;
  int anchors_per_cell() const { return int(sizes.size()); }
  int channels() const { return anchors_per_cell() * per_anchor; }
  // The head's element for number k of anchor a at cell (i, j).
  std::size_t at(int a, int k, int i, int j) const {
    return (std::size_t(a) * per_anchor + k) * grid * grid + std::size_t(i) * grid + j;
  }
};
// kiln::Error for a grid or image size that is not positive, or no sizes.
Layout layout_for(int image_size, int grid, std::span<const float> sizes);

// Faster R-CNN's matching: an anchor whose IoU with some box is >= positive_iou, or that
// is a box's best anchor, is a positive (objectness 1, deltas toward its best box);
// one whose best IoU is < negative_iou a negative (objectness 0); the rest are not
// trained (weight 0).
struct Matching {
  float positive_iou = 0.7f, negative_iou = 0.3f;
};
// One image's targets [2, 5 A, G, G] (target_loss: values, then weights; every
// objectness that is trained and every positive's deltas weigh 1). kiln::Error for a
// box that is not finite or has no area.
void encode_targets(const Layout& layout, std::span<const metrics::Box> boxes, float* targets,
                    const Matching& matching = {});

// A region that roi_align and roi_pool read as zeros (far outside any image): what pads a list.
inline constexpr metrics::Box no_region{-1000, -1000, -1000, -1000};
inline bool is_no_region(const metrics::Box& b) { return b.x0 == no_region.x0 && b.x1 == no_region.x1; }

// The `count` regions one head proposes: every anchor's box decoded and clipped to the
// image, visited by descending objectness, kept unless it overlaps a kept one by IoU >
// nms_iou (boxes under 1 pixel on a side are dropped); padded with no_region when fewer
// survive.
std::vector<metrics::Box> propose(const Layout& layout, const float* head, int image_size, int count,
                                  float nms_iou = 0.7f);

}  // namespace kiln::proposals
