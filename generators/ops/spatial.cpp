// Spatial ops: affine_sample and coordinates.
//
// affine_sample — a spatial transformer's grid generator and bilinear sampler
// (dsl/layers.hpp), as F.grid_sample(in, F.affine_grid(theta, ..., align_corners=False),
// mode="bilinear", padding_mode="zeros", align_corners=False).
//   in (C, H, W) image, offsets (6) per sample: theta = [[1, 0, 0], [0, 1, 0]] + offsets
//   out (C, H', W'):  out(x, y, c, n) = sum_corners w_k in(x_k, y_k, c, n), 0 off the map
// Output pixel (x, y) sits at normalized u = (2 x + 1) / W' - 1, v = (2 y + 1) / H' - 1
// and reads the input at pixel coordinates
//   sx = ((theta_0 u + theta_1 v + theta_2 + 1) W - 1) / 2   (sy likewise with theta_3..5, H)
// bilinearly: corners (x0 + a, y0 + b), x0 = floor(sx), with weights (1 - fx or fx) (1 - fy
// or fy), fx = sx - x0; a corner off the map contributes 0. sx, sy are clamped to
// [-2, W + 1] ([-2, H + 1]) first: beyond that every corner is off the map anyway, and
// the clamp keeps the integer corners in range.
// Adjoint, with g = d_out:
//   d_in: each output pixel scatters g w_k onto its four corners (an update over the
//     output pixels and corners, pure in c and n; a corner off the map adds 0 at a
//     clamped place);
//   d_offsets(k, n) = sum_{x, y} (d_sx(x, y, n) d sx / d theta_k + d_sy d sy / d theta_k),
//     d_sx = sum_c g (1 - fy)(v10 - v00) + fy (v11 - v01), d_sy = sum_c g (1 - fx)(v01 - v00)
//     + fx (v11 - v10) (v_ab the corner values, 0 off the map), d sx / d theta_0..2 =
//     (W / 2) (u, v, 1), d sy / d theta_3..5 = (H / 2) (u, v, 1).
// (Where sx or sy was clamped, every corner is off the map: the values and hence the
// derivatives are 0, as they are without the clamp.)
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {

// Where output pixel (x, y) of sample n reads: the corner (x0, y0) and the fractions.
struct Source {
  Expr x0, y0, fx, fy;
};

// sx(x, y, n), sy(x, y, n): the sampling coordinates in input pixels, from the offsets.
Source source_of(const Func& sx, const Func& sy, Expr x, Expr y, Expr n) {
  const Expr fx_floor = floor(sx(x, y, n)), fy_floor = floor(sy(x, y, n));
  return {cast<int>(fx_floor), cast<int>(fy_floor), sx(x, y, n) - fx_floor, sy(x, y, n) - fy_floor};
}

// Corner k (0: x0 y0, 1: x0+1 y0, 2: x0 y0+1, 3: x0+1 y0+1) of a source.
Expr corner_x(const Source& s, Expr k) { return s.x0 + k % 2; }
Expr corner_y(const Source& s, Expr k) { return s.y0 + k / 2; }
Expr corner_weight(const Source& s, Expr k) {
  return select(k % 2 == 0, 1.0f - s.fx, s.fx) * select(k / 2 == 0, 1.0f - s.fy, s.fy);
}
Expr on_map(Expr x, Expr y, Shape in) {
  return x >= 0 && x < in.width() && y >= 0 && y < in.height();
}
// The input's value at a corner, 0 off the map.
Expr corner_value(const Tensor& in, Expr x, Expr y, Expr c, Expr n) {
  const Expr inside = on_map(x, y, in.shape);
  return select(inside, in.f(clamp(x, 0, in.shape.width() - 1), clamp(y, 0, in.shape.height() - 1), c, n), 0.0f);
}

// The normalized coordinate of pixel p of `size`: (2 p + 1) / size - 1.
Expr normalized(Expr p, int size) { return (2.0f * cast<float>(p) + 1.0f) / float(size) - 1.0f; }

}  // namespace

void affine_sample_forward(const Node& node, const Tensor& in, const Tensor& offsets, NodeFuncs& f) {
  const auto& d = dims();
  const Shape s = in.shape, out_s = node.shape;
  Var k("k");
  Func theta(func_name(node.name, "theta"));  // the map's 6 numbers, row-major 2 x 3
  theta(k, d.n) = offsets.f(k, d.n) + select(k == 0 || k == 4, 1.0f, 0.0f);
  const Expr u = normalized(d.x, out_s.width()), v = normalized(d.y, out_s.height());
  Func sx(func_name(node.name, "source_x")), sy(func_name(node.name, "source_y"));
  const Expr ux = theta(0, d.n) * u + theta(1, d.n) * v + theta(2, d.n);
  const Expr uy = theta(3, d.n) * u + theta(4, d.n) * v + theta(5, d.n);
  sx(d.x, d.y, d.n) = clamp(((ux + 1.0f) * float(s.width()) - 1.0f) * 0.5f, -2.0f, float(s.width() + 1));
  sy(d.x, d.y, d.n) = clamp(((uy + 1.0f) * float(s.height()) - 1.0f) * 0.5f, -2.0f, float(s.height() + 1));
  const Source src = source_of(sx, sy, d.x, d.y, d.n);
  Expr value = 0.0f;
  for (int corner = 0; corner < 4; ++corner)
    value += corner_weight(src, corner) * corner_value(in, corner_x(src, corner), corner_y(src, corner), d.c, d.n);
  Func out(func_name(node.name));
  out(d.x, d.y, d.c, d.n) = value;
  f["theta"] = theta;
  f["source_x"] = sx;
  f["source_y"] = sy;
  f["out"] = out;
}

void affine_sample_adjoint(const Node& node, const Tensor& in, const Tensor&, NodeFuncs& f) {
  const auto& d = dims();
  const Shape s = in.shape, out_s = node.shape;
  const Func g = f["d_out"], sx = f["source_x"], sy = f["source_y"];

  // d_in0: the scatter onto each output pixel's corners.
  RDom r(0, out_s.width(), 0, out_s.height(), 0, 4, "r_scatter");  // x, y, corner
  const Source at = source_of(sx, sy, r.x, r.y, d.n);
  const Expr cx = corner_x(at, r.z), cy = corner_y(at, r.z);
  Func d_in(func_name(node.name, "d_in0"));
  d_in(d.x, d.y, d.c, d.n) = 0.0f;
  d_in(clamp(cx, 0, s.width() - 1), clamp(cy, 0, s.height() - 1), d.c, d.n) +=
      select(on_map(cx, cy, s), corner_weight(at, r.z), 0.0f) * g(r.x, r.y, d.c, d.n);

  // d_in1: through the sampling coordinates.
  const Source src = source_of(sx, sy, d.x, d.y, d.n);
  RDom rc(0, s.channels(), "r_channels");
  auto value = [&](int corner) {
    return corner_value(in, corner_x(src, corner), corner_y(src, corner), rc, d.n);
  };
  const Expr v00 = value(0), v10 = value(1), v01 = value(2), v11 = value(3);
  Func d_source(func_name(node.name, "d_source"));  // d loss / d (sx, sy) per output pixel
  d_source(d.x, d.y, d.n) = {0.0f, 0.0f};
  const Expr gc = g(d.x, d.y, rc, d.n);
  d_source(d.x, d.y, d.n) = {d_source(d.x, d.y, d.n)[0] + gc * ((1.0f - src.fy) * (v10 - v00) + src.fy * (v11 - v01)),
                             d_source(d.x, d.y, d.n)[1] + gc * ((1.0f - src.fx) * (v01 - v00) + src.fx * (v11 - v10))};
  Var k("k");
  RDom rp(0, out_s.width(), 0, out_s.height(), "r_pixels");
  const Expr u = normalized(rp.x, out_s.width()), v = normalized(rp.y, out_s.height());
  const Expr row = select(k < 3, d_source(rp.x, rp.y, d.n)[0] * (0.5f * float(s.width())),
                          d_source(rp.x, rp.y, d.n)[1] * (0.5f * float(s.height())));
  Func d_offsets(func_name(node.name, "d_in1"));
  d_offsets(k, d.n) = 0.0f;
  d_offsets(k, d.n) += row * select(k % 3 == 0, u, k % 3 == 1, v, 1.0f);
  f["d_in0"] = d_in;
  f["d_source"] = d_source;
  f["d_in1"] = d_offsets;
}

// coordinates: out(x, y, c, n) = in(x, y, c, n) for c < C, then u(x) and v(y); the
// adjoint passes d_out's first C channels back (the coordinates are constants).
void coordinates_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& d = dims();
  const Shape s = in.shape;
  const int C = s.channels();
  Func out(func_name(node.name));
  out(d.x, d.y, d.c, d.n) = select(d.c < C, in.f(d.x, d.y, min(d.c, C - 1), d.n),
                                   d.c == C, normalized(d.x, s.width()), normalized(d.y, s.height()));
  f["out"] = out;
}

void coordinates_adjoint(const Node& node, const Tensor&, NodeFuncs& f) {
  const auto& d = dims();
  Func d_in(func_name(node.name, "d_in0"));
  d_in(d.x, d.y, d.c, d.n) = f["d_out"](d.x, d.y, d.c, d.n);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
