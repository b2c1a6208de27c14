// conv_transpose2d — the transposed convolution (nn.ConvTranspose2d, groups 1): each
// input pixel scatters a KH x KW patch of weights into the output at stride s, and
// overlapping patches add up; written here as the equivalent gather.
//   in (C, H, W), weight [C, O, KH, KW] = w(kx, ky, co, ci), bias [O] = b(co)
//   out (O, OH, OW), OH = (H - 1) s_h + KH - 2 p_h (same for W)
//   out(x, y, co, n) = b(co) + sum_{ci, ky, kx} w(kx, ky, co, ci) in(u, v, ci, n)
//     over the taps where x + p - kx = u s (likewise y), 0 <= u < W, 0 <= v < H.
//   Only kx = (x + p) mod s + s j, j < ceil(KW / s), can meet a multiple of s, so the
//   sum runs over those taps alone (u = (x + p) div s - j), none wasted on zeros.
// Adjoint, with g = d_out (zero outside the output):
//   d_in(u, v, ci, n)        = sum_{co, ky, kx} w(kx, ky, co, ci) g(u s + kx - p, v s + ky - p, co, n)
//   d_weight(kx, ky, co, ci) = sum_{n, v, u} in(u, v, ci, n) g(u s + kx - p, v s + ky - p, co, n)
//   d_bias(co)               = sum_{n, y, x} g(x, y, co, n)
// (the forward, the weight gradient and the input gradient of conv2d, roles exchanged).
//
// upsample_bilinear — (C, H, W) -> (C, s H, s W), no parameters, as PyTorch's bilinear
// interpolation with align_corners=False: output column x samples the input at
//   src(x) = max((x + 1/2) / s - 1/2, 0),  x0 = floor(src),  x1 = min(x0 + 1, W - 1),
//   lx = src - x0;  out = (1 - ly) ((1 - lx) in(x0, y0) + lx in(x1, y0))
//                        + ly ((1 - lx) in(x0, y1) + lx in(x1, y1))
// Adjoint: each output's gradient goes back to its four inputs with the same weights.
// Input column u is reached only by outputs x in [s (u - 1), s (u + 2)), so the adjoint
// is a gather over those 3 s columns, then over 3 s rows (the weights are separable).
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {
// in(x, y, c, n) with zeros outside its W x H.
Func zero_outside(const Func& in, int width, int height, const std::string& name) {
  Func bounded = BoundaryConditions::constant_exterior(in, 0.0f, {{0, width}, {0, height}});
  Func f(name);
  const auto& d = dims();
  f(d.x, d.y, d.c, d.n) = bounded(d.x, d.y, d.c, d.n);
  return f;
}
int ceil_div(int a, int b) { return (a + b - 1) / b; }
}  // namespace

void conv_transpose2d_forward(const Node& node, const Tensor& in, const Func& w, const Func& b,
                              NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const std::string name = func_name(node.name);
  const int sw = node.stride_w, sh = node.stride_h, KW = node.kernel_w, KH = node.kernel_h;
  Func padded = zero_outside(in.f, in.shape.width(), in.shape.height(), name + "_padded");
  RDom r(0, ceil_div(KW, sw), 0, ceil_div(KH, sh), 0, in.shape.channels(), "r");
  Expr kx = (x + node.pad_w) % sw + sw * r.x, ky = (y + node.pad_h) % sh + sh * r.y;
  Expr u = (x + node.pad_w) / sw - r.x, v = (y + node.pad_h) / sh - r.y;
  // Where the stride does not divide the kernel, the last j reaches past it.
  Expr weight = KW % sw == 0 && KH % sh == 0
                    ? w(kx, ky, c, r.z)
                    : select(kx < KW && ky < KH, w(min(kx, KW - 1), min(ky, KH - 1), c, r.z), 0.0f);
  accumulate(f, "out", name, {x, y, c, n}, b.defined() ? b(c) : Expr(0.0f),
             weight * padded(u, v, r.z, n));
  f["padded"] = padded;
}

void conv_transpose2d_adjoint(const Node& node, const Tensor& in, const Func& w,
                              const Context& ctx, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const std::string name = func_name(node.name);
  const Shape out = node.shape;
  const int sw = node.stride_w, sh = node.stride_h, pw = node.pad_w, ph = node.pad_h;
  Func g = f["d_out"];
  // Two views of g with zeros outside: the input gradient's alone (a schedule may copy it
  // per row of that sum), and the weight gradient's.
  Func g_ext = zero_outside(g, out.width(), out.height(), name + "_d_out_padded");
  Func g_outside = zero_outside(g, out.width(), out.height(), name + "_d_out_zero_outside");
  if (node.bias) {
    RDom over_out(0, out.width(), 0, out.height(), 0, ctx.batch, "r_out");
    Func d_bias(name + "_d_bias");
    d_bias(c) = 0.0f;
    d_bias(c) += g(over_out.x, over_out.y, c, over_out.z);
    f["d_bias"] = d_bias;
  }
  RDom over_in(0, in.shape.width(), 0, in.shape.height(), 0, ctx.batch, "r_in");
  Var kx("kx"), ky("ky"), co("co"), ci("ci");
  Func d_weight(name + "_d_weight");
  d_weight(kx, ky, co, ci) = 0.0f;
  d_weight(kx, ky, co, ci) += in.f(over_in.x, over_in.y, ci, over_in.z) *
                              g_outside(over_in.x * sw + kx - pw, over_in.y * sh + ky - ph, co, over_in.z);
  RDom r(0, node.kernel_w, 0, node.kernel_h, 0, node.units, "r_taps");
  accumulate(f, "d_in0", name + "_d_in0", {x, y, c, n}, 0.0f,
             w(r.x, r.y, r.z, c) * g_ext(x * sw + r.x - pw, y * sh + r.y - ph, r.z, n));
  f["d_out_padded"] = g_ext;
  f["d_weight"] = d_weight;
}

namespace {
// Where output coordinate `at` of an s-times upsampling of `size` samples reads: the
// lower neighbour (clamped into the input, for bounds inference) and its weight's
// complement (the upper neighbour's weight).
struct Sample { Expr lower, upper, frac; };
Sample sample_at(Expr at, int s, int size) {
  Expr src = max((cast<float>(at) + 0.5f) / float(s) - 0.5f, 0.0f);
  Expr lower = clamp(cast<int>(src), 0, size - 1);
  return {lower, min(lower + 1, size - 1), src - cast<float>(lower)};
}
// The weight input coordinate u has in output coordinate `at`.
Expr weight_of(Expr u, Expr at, int s, int size) {
  const Sample p = sample_at(at, s, size);
  return select(p.lower == u, 1.0f - p.frac, 0.0f) + select(p.upper == u, p.frac, 0.0f);
}
}  // namespace

void upsample_bilinear_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const Sample sx = sample_at(x, node.stride_w, in.shape.width());
  const Sample sy = sample_at(y, node.stride_h, in.shape.height());
  auto row = [&](Expr v) {
    return (1.0f - sx.frac) * in.f(sx.lower, v, c, n) + sx.frac * in.f(sx.upper, v, c, n);
  };
  Func out(func_name(node.name));
  out(x, y, c, n) = (1.0f - sy.frac) * row(sy.lower) + sy.frac * row(sy.upper);
  f["out"] = out;
}

void upsample_bilinear_adjoint(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const std::string name = func_name(node.name);
  const int sw = node.stride_w, sh = node.stride_h, W = in.shape.width(), H = in.shape.height();
  const int OW = node.shape.width(), OH = node.shape.height();
  Func g = f["d_out"];
  // Columns first: rows(u, y) = sum over the outputs x that read input column u.
  RDom rx(0, 3 * sw, "r_columns");
  Expr ox = sw * (x - 1) + rx;
  Expr oxc = clamp(ox, 0, OW - 1);
  Func rows(name + "_d_in_rows");
  rows(x, y, c, n) = sum(select(ox >= 0 && ox < OW, weight_of(x, oxc, sw, W) * g(oxc, y, c, n), 0.0f));
  RDom ry(0, 3 * sh, "r_rows");
  Expr oy = sh * (y - 1) + ry;
  Expr oyc = clamp(oy, 0, OH - 1);
  Func d_in(name + "_d_in0");
  d_in(x, y, c, n) = sum(select(oy >= 0 && oy < OH, weight_of(y, oyc, sh, H) * rows(x, oyc, c, n), 0.0f));
  f["d_in_rows"] = rows;
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
