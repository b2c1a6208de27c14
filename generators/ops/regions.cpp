// Region layers: regions of a run-time list (ctx.rois, corners (x0, y0, x1, y1) in input
// pixels) warped to P x P bins, out (R, C P P) with out(c P P + ph P + pw, r, n).
//
// roi_align — (dsl/layers.hpp), as
// torchvision.ops.roi_align with aligned=True. With region r's corners scaled to the map,
// (x0, y0, x1, y1) s - 1/2, bin (ph, pw) of size b = (side / P) and S x S samples:
//   out(c P P + ph P + pw, r, n) = 1/S^2 sum_{iy, ix} bilinear(c, y, x, n)
//   y = y0 + ph b_h + (iy + 1/2) b_h / S,   x = x0 + pw b_w + (ix + 1/2) b_w / S
// bilinear is 0 for a sample more than a pixel outside the map; otherwise the sample is
// moved to >= 0 and, past the last row or column, onto it, and its four neighbours
// weighted as usual.
// Adjoint (the regions are constants): every sample scatters d_out / S^2 times its four
// weights onto its four neighbours, an update over (ix, iy, pw, ph, r, corner).
//
// roi_pool — as torchvision.ops.roi_pool (Fast R-CNN). With round() half away from zero
// and s the scale, a region covers pixels x0 = round(x0 s) .. round(x1 s) (at least one),
// w = max(round(x1 s) - x0 + 1, 1) of them, in bins of b = w / P (float):
//   bin pw spans x in [x0 + floor(pw b), x0 + ceil((pw + 1) b)), clipped to [0, W)
// (rows likewise); out = the bin's maximum, 0 for an empty bin. The first maximum in
// row-major order wins (argmax). Adjoint: each bin's d_out goes to its maximum, an update
// over (pw, ph, r); empty bins send nothing.
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

// Half away from zero, as C's round (Halide's round is half to even); exact: v - trunc(v)
// is exact in float.
Expr round_away(Expr v) {
  const Expr whole = trunc(v), part = v - whole;
  return cast<int>(whole) + select(part >= 0.5f, 1, part <= -0.5f, -1, 0);
}

// roi_pool's bin (pw, ph) of region r of sample n: its pixels [x_start, x_end) x
// [y_start, y_end) of the map, clipped (empty when either side is).
struct Bin {
  Expr x_start, x_end, y_start, y_end;
  Expr empty() const { return x_end <= x_start || y_end <= y_start; }
};
Bin bin_at(const Node& node, Shape s, const Func& rois, Expr pw, Expr ph, Expr r, Expr n) {
  const int P = node.kernel_h;
  const float scale = node.alpha;
  auto pixel = [&](int k) { return round_away(strict_float(rois(k, r, n) * scale)); };  // no fma
  const Expr x0 = pixel(0), y0 = pixel(1), x1 = pixel(2), y1 = pixel(3);
  // Bin edges as IEEE float computes them, as torchvision's kernel does: they decide which
  // pixels a bin holds, and Halide's fast math would reassociate k (w / P) into (k w) / P.
  auto at = [P](Expr k, Expr side) { return strict_float(cast<float>(k) * (cast<float>(side) / float(P))); };
  const Expr w = max(x1 - x0 + 1, 1), h = max(y1 - y0 + 1, 1);
  auto edge = [](Expr bin_edge, Expr origin, int size) {
    return clamp(cast<int>(bin_edge) + origin, 0, size);
  };
  return {edge(floor(at(pw, w)), x0, s.width()), edge(ceil(at(pw + 1, w)), x0, s.width()),
          edge(floor(at(ph, h)), y0, s.height()), edge(ceil(at(ph + 1, h)), y0, s.height())};
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

void roi_pool_forward(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const int P = node.kernel_h;
  const Expr c = d.i / (P * P), ph = (d.i / P) % P, pw = d.i % P;
  const Bin bin = bin_at(node, in.shape, ctx.rois, pw, ph, d.t, d.n);
  // The bin's pixels as offsets from its corner; the loops shrink to the bin (a bin
  // spans at most the whole map).
  RDom r(0, in.shape.width(), 0, in.shape.height(), "r_bin");
  r.where(r.x < bin.x_end - bin.x_start && r.y < bin.y_end - bin.y_start);
  Func am(func_name(node.name, "argmax"));  // (x offset, y offset, maximum); first on ties
  // (The clamps are for bounds inference, which does not read the predicate.)
  const Expr x = min(bin.x_start + r.x, in.shape.width() - 1), y = min(bin.y_start + r.y, in.shape.height() - 1);
  am(d.i, d.t, d.n) = argmax(r, in.f(x, y, c, d.n));
  Func out(func_name(node.name));
  out(d.i, d.t, d.n) = select(bin.empty(), 0.0f, am(d.i, d.t, d.n)[2]);
  f["argmax"] = am;
  f["out"] = out;
}

void roi_pool_adjoint(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const int P = node.kernel_h;
  RDom r(0, P, 0, P, 0, node.units, "r_bins");  // pw, ph, region
  const Bin bin = bin_at(node, in.shape, ctx.rois, r.x, r.y, r.z, d.n);
  const Expr bin_index = (d.c * P + r.y) * P + r.x;
  const Func am = f["argmax"];
  Func d_in(func_name(node.name, "d_in0"));
  d_in(d.x, d.y, d.c, d.n) = 0.0f;
  d_in(clamp(bin.x_start + am(bin_index, r.z, d.n)[0], 0, in.shape.width() - 1),
       clamp(bin.y_start + am(bin_index, r.z, d.n)[1], 0, in.shape.height() - 1), d.c, d.n) +=
      select(bin.empty(), 0.0f, f["d_out"](bin_index, r.z, d.n));
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
