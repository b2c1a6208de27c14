// roi_align — regions of a run-time list warped to P x P bins (dsl/layers.hpp), as
// torchvision.ops.roi_align with aligned=True. With region r's corners scaled to the map,
// (x0, y0, x1, y1) s - 1/2, bin (ph, pw) of size b = (side / P) and S x S samples:
//   out(c P P + ph P + pw, r, n) = 1/S^2 sum_{iy, ix} bilinear(c, y, x, n)
//   y = y0 + ph b_h + (iy + 1/2) b_h / S,   x = x0 + pw b_w + (ix + 1/2) b_w / S
// bilinear is 0 for a sample more than a pixel outside the map; otherwise the sample is
// moved to >= 0 and, past the last row or column, onto it, and its four neighbours
// weighted as usual.
// Adjoint (the regions are constants): every sample scatters d_out / S^2 times its four
// weights onto its four neighbours, an update over (ix, iy, pw, ph, r, corner).
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {

// One bilinear sample's four neighbours and weights, torchvision's way.
struct Sample {
  Expr valid;
  Expr x_low, x_high, y_low, y_high;
  Expr lx, ly;  // the weights of the high neighbours along x and y
  // Corner k: 0 (low x, low y), 1 (high x, low y), 2 (low x, high y), 3 (high x, high y).
  Expr x(Expr k) const { return select(k % 2 == 0, x_low, x_high); }
  Expr y(Expr k) const { return select(k / 2 == 0, y_low, y_high); }
  Expr weight(Expr k) const {
    const Expr wx = select(k % 2 == 0, 1.0f - lx, lx), wy = select(k / 2 == 0, 1.0f - ly, ly);
    return select(valid, wx * wy, 0.0f);
  }
};

// Along one axis of `size` pixels: the low and high neighbours of coordinate v and the
// high one's weight.
void neighbours(Expr v, int size, Expr& low, Expr& high, Expr& weight) {
  const Expr at = max(v, 0.0f);
  const Expr first = cast<int>(at);  // at >= 0: truncation is floor
  const Expr edge = first >= size - 1;
  low = clamp(select(edge, size - 1, first), 0, size - 1);
  high = clamp(select(edge, size - 1, first + 1), 0, size - 1);
  weight = select(edge, 0.0f, at - cast<float>(first));
}

// The sample (ix, iy) of bin (pw, ph) of region r of sample n.
Sample sample_at(const Node& node, Shape s, const Func& rois, Expr ix, Expr iy, Expr pw, Expr ph,
                 Expr r, Expr n) {
  const int P = node.kernel_h, S = node.stride_h;
  const float scale = node.alpha;
  const Expr x0 = rois(0, r, n) * scale - 0.5f, y0 = rois(1, r, n) * scale - 0.5f;
  const Expr bw = (rois(2, r, n) * scale - 0.5f - x0) / P, bh = (rois(3, r, n) * scale - 0.5f - y0) / P;
  const Expr x = x0 + cast<float>(pw) * bw + (cast<float>(ix) + 0.5f) * bw / S;
  const Expr y = y0 + cast<float>(ph) * bh + (cast<float>(iy) + 0.5f) * bh / S;
  Sample out;
  out.valid = y >= -1.0f && y <= float(s.height()) && x >= -1.0f && x <= float(s.width());
  neighbours(x, s.width(), out.x_low, out.x_high, out.lx);
  neighbours(y, s.height(), out.y_low, out.y_high, out.ly);
  return out;
}

}  // namespace

void roi_align_forward(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const int P = node.kernel_h, S = node.stride_h;
  const Expr c = d.i / (P * P), ph = (d.i / P) % P, pw = d.i % P;
  RDom r(0, S, 0, S, 0, 4, "r_samples");  // ix, iy, corner
  const Sample smp = sample_at(node, in.shape, ctx.rois, r.x, r.y, pw, ph, d.t, d.n);
  Func out(func_name(node.name));
  out(d.i, d.t, d.n) = sum(smp.weight(r.z) * in.f(smp.x(r.z), smp.y(r.z), c, d.n)) / float(S * S);
  f["out"] = out;
}

void roi_align_adjoint(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const int P = node.kernel_h, S = node.stride_h;
  RDom r(0, S, 0, S, 0, P, 0, P, 0, node.units, 0, 4, "r_scatter");  // ix, iy, pw, ph, region, corner
  const Sample smp = sample_at(node, in.shape, ctx.rois, r[0], r[1], r[2], r[3], r[4], d.n);
  Func d_in(func_name(node.name, "d_in0"));
  d_in(d.x, d.y, d.c, d.n) = 0.0f;
  d_in(smp.x(r[5]), smp.y(r[5]), d.c, d.n) +=
      smp.weight(r[5]) * f["d_out"]((d.c * P + r[3]) * P + r[2], r[4], d.n) / float(S * S);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
