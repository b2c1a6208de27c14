// conv2d — 2-D convolution (cross-correlation, as PyTorch), optionally dilated and grouped.
//   in (C, H, W), weight [O, C/G, KH, KW] = w(kx, ky, ci, co), bias [O] = b(co) (none with no_bias)
//   out (O, OH, OW), OH = (H + 2 pad_h - d_h (KH - 1) - 1) / stride_h + 1 (same for W)
//   G groups: output co belongs to group g(co) = co / (O/G) and reads only input channels
//   g(co) C/G ... g(co) C/G + C/G - 1 (C and O divisible by G; depthwise: G = C).
//   out(x, y, co, n) = b(co) + sum_{ci < C/G, ky, kx} w(kx, ky, ci, co)
//                      in(x s + kx d - p, y s + ky d - p, g(co) C/G + ci, n)
// Adjoint, with g = d_out:
//   d_bias(co)             = sum_{n, y, x} g(x, y, co, n)
//   d_weight(kx, ky, ci, co) = sum_{n, y, x} g(x, y, co, n) in(x s + kx d - p, ..., g(co) C/G + ci, n)
//   d_in(u, v, c, n)       = sum_{co in c's group, ky, kx} w(kx, ky, c mod C/G, co) g((u + p - kx d) / s, ...)
//                            over the taps where u + p - kx d is a multiple of s inside the output
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

Func pad_spatial(const Tensor& in, Expr outside, const Node& node, const std::string& name) {
  const bool padded_at_all = node.pad_h > 0 || node.pad_w > 0;
  Func padded(name);
  const auto& d = dims();
  if (!padded_at_all) {  // a plain alias, which schedules inline
    padded(d.x, d.y, d.c, d.n) = in.f(d.x, d.y, d.c, d.n);
    return padded;
  }
  Func bounded = BoundaryConditions::constant_exterior(
      in.f, outside, {{0, in.shape.width()}, {0, in.shape.height()}});
  padded(d.x, d.y, d.c, d.n) = bounded(d.x, d.y, d.c, d.n);
  return padded;
}

void conv2d_forward(const Node& node, const Tensor& in, const Func& w, const Func& b,
                    NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const int G = node.groups, Cg = in.shape.channels() / G, Og = node.units / G;
  Func padded = pad_spatial(in, 0.0f, node, func_name(node.name, "padded"));
  RDom r(0, node.kernel_w, 0, node.kernel_h, 0, Cg, "r");
  // Ungrouped convs keep the plain channel index, which bounds inference reads exactly.
  Expr in_channel = G == 1 ? Expr(r.z) : (c / Og) * Cg + r.z;
  accumulate(f, "out", func_name(node.name), {x, y, c, n}, b.defined() ? b(c) : Expr(0.0f),
             w(r.x, r.y, r.z, c) *
                 padded(x * node.stride_w + r.x * node.dilation_w - node.pad_w,
                        y * node.stride_h + r.y * node.dilation_h - node.pad_h, in_channel, n));
  f["padded"] = padded;
}

void conv2d_adjoint(const Node& node, const Tensor& in, const Func& w, const Context& ctx,
                    NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const std::string name = func_name(node.name);
  const Shape out_shape = node.shape;
  const int G = node.groups, Cg = in.shape.channels() / G, Og = node.units / G;
  const int KW = node.kernel_w, KH = node.kernel_h;
  const int sw = node.stride_w, sh = node.stride_h, pw = node.pad_w, ph = node.pad_h;
  const int dw = node.dilation_w, dh = node.dilation_h;
  Func g = f["d_out"];
  Func padded = f["padded"];

  RDom over_out(0, out_shape.width(), 0, out_shape.height(), 0, ctx.batch, "r_out");
  if (node.bias) {
    Func d_bias(name + "_d_bias");
    d_bias(c) = 0.0f;
    d_bias(c) += g(over_out.x, over_out.y, c, over_out.z);
    f["d_bias"] = d_bias;
  }

  Var kx("kx"), ky("ky"), ci("ci"), co("co");
  Func d_weight(name + "_d_weight");
  d_weight(kx, ky, ci, co) = 0.0f;
  d_weight(kx, ky, ci, co) += g(over_out.x, over_out.y, co, over_out.z) *
                              padded(over_out.x * sw + kx * dw - pw, over_out.y * sh + ky * dh - ph,
                                     G == 1 ? Expr(ci) : (co / Og) * Cg + ci, over_out.z);

  // g, zero outside the output and, for strides above 1, between the strided taps.
  Func g_ext = BoundaryConditions::constant_exterior(
      g, 0.0f, {{0, out_shape.width()}, {0, out_shape.height()}});
  Func g_up(name + "_d_out_upsampled");
  if (sw == 1 && sh == 1) {
    g_up(x, y, c, n) = g_ext(x, y, c, n);
  } else {
    g_up(x, y, c, n) = select(x % sw == 0 && y % sh == 0, g_ext(x / sw, y / sh, c, n), 0.0f);
  }
  // Input channel c receives from the O/G outputs of its group only.
  RDom r(0, KW, 0, KH, 0, Og, "r_taps");
  Expr out_channel = G == 1 ? Expr(r.z) : (c / Cg) * Og + r.z;
  accumulate(f, "d_in0", name + "_d_in0", {x, y, c, n}, 0.0f,
             w(r.x, r.y, G == 1 ? Expr(c) : c % Cg, out_channel) *
                 g_up(x + pw - r.x * dw, y + ph - r.y * dh, out_channel, n));

  f["d_out_upsampled"] = g_up;
  f["d_weight"] = d_weight;
}

}  // namespace kiln::gen::ops
