// What detectors need around their boxes: anchors laid over a feature grid, and the
// encoding of a box relative to an anchor (the targets a box-regression head learns)
// with its inverse (how its outputs become boxes). Boxes are metrics::Box: pixels, x1
// and y1 exclusive.
#pragma once
#include "runtime/metrics.hpp"

#include <span>
#include <vector>

namespace kiln::anchors {

using metrics::Box;

// One anchor per (size, aspect ratio) at the centre ((j + 1/2) stride, (i + 1/2) stride)
// of each cell (i, j) of a grid_h x grid_w feature map: width size sqrt(ratio), height
// size / sqrt(ratio) (ratio = width / height; the area is size^2). Order: cells row by
// row, then sizes, then ratios. kiln::Error for an empty grid, a non-positive stride,
// size or ratio, or no sizes or ratios.
std::vector<Box> grid_anchors(int grid_h, int grid_w, float stride, std::span<const float> sizes,
                              std::span<const float> ratios);

// A box relative to an anchor, as Faster R-CNN parametrizes it (torchvision's BoxCoder):
//   dx = wx (cx - cx_a) / w_a,  dy = wy (cy - cy_a) / h_a,
//   dw = ww log(w / w_a),       dh = wh log(h / h_a)
// with (cx, cy) a box's centre and w, h its sides; the weights scale the targets
// (torchvision: 1, 1, 1, 1 for proposals, 10, 10, 5, 5 for the detection head).
struct Delta {
  float dx = 0, dy = 0, dw = 0, dh = 0;
};
struct DeltaWeights {
  float x = 1, y = 1, w = 1, h = 1;
};
// kiln::Error for an anchor or box with a non-positive width or height.
Delta encode(const Box& anchor, const Box& box, DeltaWeights weights = {});
// The inverse of encode. dw and dh (after the weights) are first clamped to
// log(1000 / 16), as torchvision does, so that no box grows past 1000/16 times its anchor.
Box decode(const Box& anchor, const Delta& delta, DeltaWeights weights = {});

}  // namespace kiln::anchors
