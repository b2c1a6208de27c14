#include "runtime/anchors.hpp"

#include "runtime/error.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::anchors {

namespace {
// A box as centre and sides.
struct Centred {
  float cx, cy, w, h;
};
Centred centred(const Box& b, const char* what) {
  const float w = b.x1 - b.x0, h = b.y1 - b.y0;
  if (!(w > 0 && h > 0)) fail("box encoding: the {} is {} x {} pixels; both sides must be positive", what, w, h);
  return {b.x0 + w / 2, b.y0 + h / 2, w, h};
}
}  // namespace

std::vector<Box> grid_anchors(int grid_h, int grid_w, float stride, std::span<const float> sizes,
                              std::span<const float> ratios) {
  if (grid_h <= 0 || grid_w <= 0) fail("anchors: the grid is {} x {}; both sides must be positive", grid_w, grid_h);
  if (!(stride > 0)) fail("anchors: stride {} is not positive", stride);
  if (sizes.empty() || ratios.empty()) fail("anchors: give at least one size and one aspect ratio");
  for (float s : sizes)
    if (!(s > 0)) fail("anchors: size {} is not positive", s);
  for (float r : ratios)
    if (!(r > 0)) fail("anchors: aspect ratio {} is not positive", r);
  std::vector<Box> out;
  out.reserve(std::size_t(grid_h) * grid_w * sizes.size() * ratios.size());
  for (int i = 0; i < grid_h; ++i)
    for (int j = 0; j < grid_w; ++j) {
      const float cx = (j + 0.5f) * stride, cy = (i + 0.5f) * stride;
      for (float size : sizes)
        for (float ratio : ratios) {
          const float w = size * std::sqrt(ratio), h = size / std::sqrt(ratio);
          out.push_back({cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2});
        }
    }
  return out;
}

Delta encode(const Box& anchor, const Box& box, DeltaWeights k) {
  const Centred a = centred(anchor, "anchor"), b = centred(box, "box");
  return {k.x * (b.cx - a.cx) / a.w, k.y * (b.cy - a.cy) / a.h, k.w * std::log(b.w / a.w),
          k.h * std::log(b.h / a.h)};
}

Box decode(const Box& anchor, const Delta& d, DeltaWeights k) {
  const Centred a = centred(anchor, "anchor");
  const float clip = std::log(1000.0f / 16);
  const float cx = a.cx + d.dx / k.x * a.w, cy = a.cy + d.dy / k.y * a.h;
  const float w = a.w * std::exp(std::min(d.dw / k.w, clip)), h = a.h * std::exp(std::min(d.dh / k.h, clip));
  return {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
}

}  // namespace kiln::anchors
