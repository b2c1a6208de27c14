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
//
// Three lowerings of the same sums (Context::conv_lowerings picks one per layer; kiln tune
// chooses among them):
//   direct    — the sums above, as written.
//   im2col    — the input's patches gathered into columns(k, x, y, group, n), k = (ci KH + ky) KW
//               + kx (the weight's own flat order), and out = W (co x k) . columns, a matrix
//               product. Adjoint: d_columns = W^T g (a product), d_in = col2im(d_columns)
//               (each input pixel gathers the column entries that read it), d_weight =
//               g . columns^T (a product).
//   winograd  — F(2x2, 3x3) (Lavin and Gray 2016), for 3x3 convs of stride 1, dilation 1
//               and one group: per 4 x 4 input tile d and filter w, out tile (2 x 2) =
//               A^T [(G w G^T) . (B^T d B)] A, the elementwise products summed over input
//               channels (16 matrix products), with
//                 B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//                 G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],  A^T = [1 1 1 0; 0 1 -1 -1].
//               Adjoint: d_in is itself a 3x3 stride-1 conv (of g, padded 2 - p, with the
//               kernel flipped and its channels swapped), through the same tiles; d_weight
//               and d_bias are direct.
#include "generators/ops/ops.hpp"

#include <functional>
#include <stdexcept>

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

namespace {

// The conv's sizes, in one place.
struct ConvSizes {
  int KW, KH, G, Cg, Og, K;  // K: one group's taps, KW KH Cg (im2col's column length)
  explicit ConvSizes(const Node& node, Shape in)
      : KW(node.kernel_w), KH(node.kernel_h), G(node.groups), Cg(in.channels() / node.groups),
        Og(node.units / node.groups), K(node.kernel_w * node.kernel_h * (in.channels() / node.groups)) {}
};

// ---- direct -----------------------------------------------------------------------

void direct_forward(const Node& node, const Tensor& in, const Func& w, const Func& b, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const ConvSizes z(node, in.shape);
  Func padded = f["padded"];
  RDom r(0, z.KW, 0, z.KH, 0, z.Cg, "r");
  // Ungrouped convs keep the plain channel index, which bounds inference reads exactly.
  Expr in_channel = z.G == 1 ? Expr(r.z) : (c / z.Og) * z.Cg + r.z;
  accumulate(f, "out", func_name(node.name), {x, y, c, n}, b.defined() ? b(c) : Expr(0.0f),
             w(r.x, r.y, r.z, c) *
                 padded(x * node.stride_w + r.x * node.dilation_w - node.pad_w,
                        y * node.stride_h + r.y * node.dilation_h - node.pad_h, in_channel, n));
}

void direct_d_weight(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const ConvSizes z(node, in.shape);
  Func g = f["d_out"], padded = f["padded"];
  RDom over_out(0, node.shape.width(), 0, node.shape.height(), 0, ctx.batch, "r_out");
  Var kx("kx"), ky("ky"), ci("ci"), co("co");
  Func d_weight(func_name(node.name, "d_weight"));
  d_weight(kx, ky, ci, co) = 0.0f;
  d_weight(kx, ky, ci, co) += g(over_out.x, over_out.y, co, over_out.z) *
                              padded(over_out.x * node.stride_w + kx * node.dilation_w - node.pad_w,
                                     over_out.y * node.stride_h + ky * node.dilation_h - node.pad_h,
                                     z.G == 1 ? Expr(ci) : (co / z.Og) * z.Cg + ci, over_out.z);
  f["d_weight"] = d_weight;
}

void direct_d_in(const Node& node, const Tensor& in, const Func& w, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const ConvSizes z(node, in.shape);
  const std::string name = func_name(node.name);
  const int sw = node.stride_w, sh = node.stride_h;
  const Shape out_shape = node.shape;
  // g, zero outside the output and, for strides above 1, between the strided taps.
  Func g_ext = BoundaryConditions::constant_exterior(
      f["d_out"], 0.0f, {{0, out_shape.width()}, {0, out_shape.height()}});
  Func g_up(name + "_d_out_upsampled");
  if (sw == 1 && sh == 1) {
    g_up(x, y, c, n) = g_ext(x, y, c, n);
  } else {
    g_up(x, y, c, n) = select(x % sw == 0 && y % sh == 0, g_ext(x / sw, y / sh, c, n), 0.0f);
  }
  // Input channel c receives from the O/G outputs of its group only.
  RDom r(0, z.KW, 0, z.KH, 0, z.Og, "r_taps");
  Expr out_channel = z.G == 1 ? Expr(r.z) : (c / z.Cg) * z.Og + r.z;
  accumulate(f, "d_in0", name + "_d_in0", {x, y, c, n}, 0.0f,
             w(r.x, r.y, z.G == 1 ? Expr(c) : c % z.Cg, out_channel) *
                 g_up(x + node.pad_w - r.x * node.dilation_w, y + node.pad_h - r.y * node.dilation_h,
                      out_channel, n));
  f["d_out_upsampled"] = g_up;
}

// ---- im2col ------------------------------------------------------------------------

// Column entry k of a group's patch: its tap (kx, ky) and input channel within the group.
struct Tap {
  Expr kx, ky, ci;
};
Tap tap_of(Expr k, const ConvSizes& z) { return {k % z.KW, (k / z.KW) % z.KH, k / (z.KW * z.KH)}; }

void im2col_forward(const Node& node, const Tensor& in, const Func& w, const Func& b, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const ConvSizes z(node, in.shape);
  const std::string name = func_name(node.name);
  Var k("k"), group("group");
  const Tap tap = tap_of(k, z);
  Func columns(name + "_columns");  // columns(k, x, y, group, n)
  columns(k, x, y, group, n) = f["padded"](x * node.stride_w + tap.kx * node.dilation_w - node.pad_w,
                                           y * node.stride_h + tap.ky * node.dilation_h - node.pad_h,
                                           group * z.Cg + tap.ci, n);
  Func matrix(name + "_weight_matrix");  // matrix(k, co): the weight as stored, [O, K]
  matrix(k, c) = w(tap.kx, tap.ky, tap.ci, c);
  RDom r(0, z.K, "r_k");
  accumulate(f, "out", name, {x, y, c, n}, b.defined() ? b(c) : Expr(0.0f),
             matrix(r, c) * columns(r, x, y, z.G == 1 ? Expr(0) : c / z.Og, n));
  f["columns"] = columns;
  f["weight_matrix"] = matrix;
}

void im2col_adjoint(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const ConvSizes z(node, in.shape);
  const std::string name = func_name(node.name);
  Func g = f["d_out"], columns = f["columns"], matrix = f["weight_matrix"];
  Var k("k"), co("co"), group("group");

  // d_weight = g . columns^T, a product over every output pixel of every sample.
  RDom over_out(0, node.shape.width(), 0, node.shape.height(), 0, ctx.batch, "r_out");
  accumulate(f, "d_weight_matrix", name + "_d_weight_matrix", {k, co}, 0.0f,
             g(over_out.x, over_out.y, co, over_out.z) *
                 columns(k, over_out.x, over_out.y, z.G == 1 ? Expr(0) : co / z.Og, over_out.z));
  Var kx("kx"), ky("ky"), ci("ci");
  Func d_weight(name + "_d_weight");
  d_weight(kx, ky, ci, co) = f["d_weight_matrix"]((ci * z.KH + ky) * z.KW + kx, co);
  f["d_weight"] = d_weight;

  // d_columns = W^T g, a product over the group's outputs.
  RDom r(0, z.Og, "r_outputs");
  accumulate(f, "d_columns", name + "_d_columns", {k, x, y, group, n}, 0.0f,
             matrix(k, group * z.Og + r) * g(x, y, group * z.Og + r, n));

  // col2im: input (u, v, c) was read by tap (kx, ky) of output ((u + p - kx d) / s, ...)
  // where that divides exactly and lies inside the output.
  RDom taps(0, z.KW, 0, z.KH, "r_taps");
  const Expr u = x + node.pad_w - taps.x * node.dilation_w, v = y + node.pad_h - taps.y * node.dilation_h;
  const Expr ox = u / node.stride_w, oy = v / node.stride_h;
  const Expr read = u % node.stride_w == 0 && v % node.stride_h == 0 && ox >= 0 && oy >= 0 &&
                    ox < node.shape.width() && oy < node.shape.height();
  const Expr column = ((c % z.Cg) * z.KH + taps.y) * z.KW + taps.x;
  Func d_in(name + "_d_in0");
  d_in(x, y, c, n) = sum(select(read, f["d_columns"](column, clamp(ox, 0, node.shape.width() - 1),
                                                     clamp(oy, 0, node.shape.height() - 1),
                                                     z.G == 1 ? Expr(0) : c / z.Cg, n),
                                0.0f));
  f["d_in0"] = d_in;
}

// ---- Winograd F(2x2, 3x3) --------------------------------------------------------------

// The 1-D transforms, element e of a transformed row of four (or three) values v(k).
Expr data_transform(Expr e, const std::function<Expr(int)>& v) {  // B^T v
  return select(e == 0, v(0) - v(2), e == 1, v(1) + v(2), e == 2, v(2) - v(1), v(1) - v(3));
}
Expr filter_transform(Expr e, const std::function<Expr(int)>& v) {  // G v
  return select(e == 0, v(0), e == 1, 0.5f * (v(0) + v(1) + v(2)), e == 2, 0.5f * (v(0) - v(1) + v(2)), v(2));
}
Expr output_transform(Expr e, const std::function<Expr(int)>& m) {  // A^T m
  return select(e == 0, m(0) + m(1) + m(2), m(1) - m(2) - m(3));
}

// out(x, y, co, n) = init(co) + sum_{ci < C, kx, ky < 3} w(kx, ky, ci, co) src(x + kx - pad,
// y + ky - pad, ci, n) through 2 x 2 output tiles; src must be defined (zero) everywhere
// outside its data. Funcs go into f as prefix + "input" (src), "tiles_x", "tiles",
// "filter_x", "filter", "product" (+ "_acc"), "product_x"; returns out.
Func winograd(const std::string& name, const std::string& prefix, Func src, Func w, int C, int pad,
              Expr init_of_co, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  Var ex("ex"), ey("ey"), tx("tx"), ty("ty"), ci("ci"), co("co"), ky("ky");
  Func tiles_x(name + "_tiles_x"), tiles(name + "_tiles");  // V = B^T d B per tile and channel
  tiles_x(ex, ey, ci, tx, ty, n) = data_transform(ex, [&](int a) {
    return src(2 * tx + a - pad, 2 * ty + ey - pad, ci, n);
  });
  tiles(ex, ey, ci, tx, ty, n) = data_transform(ey, [&](int b) { return tiles_x(ex, b, ci, tx, ty, n); });
  Func filter_x(name + "_filter_x"), filter(name + "_filter");  // U = G w G^T
  filter_x(ex, ky, ci, co) = filter_transform(ex, [&](int kx) { return w(kx, ky, ci, co); });
  filter(ex, ey, ci, co) = filter_transform(ey, [&](int k) { return filter_x(ex, k, ci, co); });
  RDom r(0, C, "r_channels");
  NodeFuncs product;
  accumulate(product, "m", name + "_product", {ex, ey, co, tx, ty, n}, 0.0f,
             filter(ex, ey, r, co) * tiles(ex, ey, r, tx, ty, n));
  Func m = product["m"];
  Func product_x(name + "_product_x");  // A^T M, along x
  product_x(x, ey, co, tx, ty, n) = output_transform(x, [&](int e) { return m(e, ey, co, tx, ty, n); });
  Func out(name);
  out(x, y, c, n) = init_of_co + output_transform(y % 2, [&](int e) {
    return product_x(x % 2, e, c, x / 2, y / 2, n);
  });
  f[prefix + "input"] = src;
  f[prefix + "tiles_x"] = tiles_x;
  f[prefix + "tiles"] = tiles;
  f[prefix + "filter_x"] = filter_x;
  f[prefix + "filter"] = filter;
  f[prefix + "product"] = m;
  f[prefix + "product_acc"] = product["m_acc"];
  f[prefix + "product_x"] = product_x;
  return out;
}

void winograd_forward(const Node& node, const Tensor& in, const Func& w, const Func& b, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  // Tiles past the output's last odd row or column read beyond the padding: zero there too.
  Func src(func_name(node.name, "winograd_input"));
  src(x, y, c, n) = BoundaryConditions::constant_exterior(in.f, 0.0f, {{0, in.shape.width()}, {0, in.shape.height()}})(x, y, c, n);
  f["out"] = winograd(func_name(node.name), "winograd_", src, w, in.shape.channels(), node.pad_w,
                      b.defined() ? b(c) : Expr(0.0f), f);
}

void winograd_d_in(const Node& node, const Tensor& in, const Func& w, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  Func g(func_name(node.name, "d_out_padded"));
  g(x, y, c, n) = BoundaryConditions::constant_exterior(
      f["d_out"], 0.0f, {{0, node.shape.width()}, {0, node.shape.height()}})(x, y, c, n);
  Var kx("kx"), ky("ky"), a("a"), o("o");
  Func flipped(func_name(node.name, "weight_flipped"));  // the kernel turned, channels swapped
  flipped(kx, ky, o, a) = w(2 - kx, 2 - ky, a, o);
  f["d_in0"] = winograd(func_name(node.name, "d_in0"), "d_in_winograd_", g, flipped, node.units,
                        2 - node.pad_w, Expr(0.0f), f);
  f["weight_flipped"] = flipped;
  (void)in;
}

void d_bias(const Node& node, const Context& ctx, NodeFuncs& f) {
  if (!node.bias) return;
  const auto& [x, y, c, i, t, n] = dims();
  RDom over_out(0, node.shape.width(), 0, node.shape.height(), 0, ctx.batch, "r_out");
  Func d_b(func_name(node.name, "d_bias"));
  d_b(c) = 0.0f;
  d_b(c) += f["d_out"](over_out.x, over_out.y, c, over_out.z);
  f["d_bias"] = d_b;
}

}  // namespace

void conv2d_forward(const Node& node, const Tensor& in, const Func& w, const Func& b,
                    ConvLowering lowering, NodeFuncs& f) {
  f["padded"] = pad_spatial(in, 0.0f, node, func_name(node.name, "padded"));
  switch (lowering) {
    case ConvLowering::direct: return direct_forward(node, in, w, b, f);
    case ConvLowering::im2col: return im2col_forward(node, in, w, b, f);
    case ConvLowering::winograd:
      if (!winograd_applies(node))
        throw std::invalid_argument("kiln: " + std::string(node.name.view()) +
                                    ": winograd lowers 3x3 convs of stride 1, dilation 1 and one group only");
      return winograd_forward(node, in, w, b, f);
  }
}

void conv2d_adjoint(const Node& node, const Tensor& in, const Func& w, const Context& ctx,
                    ConvLowering lowering, NodeFuncs& f) {
  d_bias(node, ctx, f);
  switch (lowering) {
    case ConvLowering::direct:
      direct_d_weight(node, in, ctx, f);
      return direct_d_in(node, in, w, f);
    case ConvLowering::im2col: return im2col_adjoint(node, in, ctx, f);
    case ConvLowering::winograd:
      direct_d_weight(node, in, ctx, f);
      return winograd_d_in(node, in, w, f);
  }
}

}  // namespace kiln::gen::ops
