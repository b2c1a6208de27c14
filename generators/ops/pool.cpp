// max_pool / avg_pool — a KH x KW window with stride s and zero padding p, per channel.
//   in (C, H, W) -> out (C, OH, OW), OH = (H + 2p - KH) / s + 1; no parameters.
//   max: out = max over the window (padding never wins: it is -inf)
//   avg: out = sum over the window / (KH KW), padding counted as zeros (PyTorch's
//        count_include_pad=True)
// Adjoint: each output's gradient goes back to the inputs of its window: for max, all
// of it to the first maximum in row-major window order (as PyTorch picks it); for avg,
// 1 / (KH KW) of it to each. Overlapping windows add up.
//
// global_avg_pool — the mean of each channel over the whole image, flattened.
//   in (C, H, W) -> out (C): out(c, n) = sum_{y, x} in(x, y, c, n) / (H W); no parameters.
//   d_in(x, y, c, n) = d_out(c, n) / (H W)
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

void pool_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const std::string name = func_name(node.name);
  const bool is_max = node.op == Op::max_pool;
  Func padded = pad_spatial(in, is_max ? Expr(Float(32).min()) : Expr(0.0f), node,
                            name + "_padded");
  RDom r(0, node.kernel_w, 0, node.kernel_h, "r_window");
  Expr tap = padded(x * node.stride_w + r.x - node.pad_w, y * node.stride_h + r.y - node.pad_h, c, n);
  Func out(name);
  if (is_max) {
    // argmax keeps the first maximum on ties; its third element is the maximum itself.
    Func am(name + "_argmax");
    am(x, y, c, n) = argmax(r, tap);
    out(x, y, c, n) = am(x, y, c, n)[2];
    f["argmax"] = am;
  } else {
    out(x, y, c, n) = sum(tap) / float(node.kernel_w * node.kernel_h);
  }
  f["padded"] = padded;
  f["out"] = out;
}

void pool_adjoint(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const std::string name = func_name(node.name);
  const int OW = node.shape.width(), OH = node.shape.height();
  const int sw = node.stride_w, sh = node.stride_h;
  Func g = f["d_out"];
  Func d_in(name + "_d_in0");
  if (node.op == Op::max_pool && sw == node.kernel_w && sh == node.kernel_h &&
      node.pad_w == 0 && node.pad_h == 0) {
    // Windows that tile the input: exactly one window covers (x, y), or none past the
    // last whole window.
    Func am = f["argmax"];
    Expr ox = x / sw, oy = y / sh;
    Expr inside = ox < OW && oy < OH;
    Expr oxc = min(ox, OW - 1), oyc = min(oy, OH - 1);
    d_in(x, y, c, n) = select(inside && am(oxc, oyc, c, n)[0] == x % sw &&
                                  am(oxc, oyc, c, n)[1] == y % sh,
                              g(oxc, oyc, c, n), 0.0f);
    f["d_in0"] = d_in;
    return;
  }
  // Every window that covers input (x, y): tap (kx, ky) of window ((x + p - kx) / s, ...).
  RDom r(0, node.kernel_w, 0, node.kernel_h, "r_window");
  Expr u = x + node.pad_w - r.x, v = y + node.pad_h - r.y;
  Expr ox = u / sw, oy = v / sh;
  Expr covers = u % sw == 0 && v % sh == 0 && ox >= 0 && ox < OW && oy >= 0 && oy < OH;
  Expr oxc = clamp(ox, 0, OW - 1), oyc = clamp(oy, 0, OH - 1);
  Expr share;
  if (node.op == Op::max_pool) {
    Func am = f["argmax"];
    share = select(covers && am(oxc, oyc, c, n)[0] == r.x && am(oxc, oyc, c, n)[1] == r.y,
                   g(oxc, oyc, c, n), 0.0f);
  } else {
    share = select(covers, g(oxc, oyc, c, n), 0.0f) / float(node.kernel_w * node.kernel_h);
  }
  d_in(x, y, c, n) = sum(share);
  f["d_in0"] = d_in;
  (void)in;
}

void global_avg_pool_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const int W = in.shape.width(), H = in.shape.height();
  RDom r(0, W, 0, H, "r_image");
  Func out(func_name(node.name));
  out(i, n) = sum(in.f(r.x, r.y, i, n)) / float(W * H);
  f["out"] = out;
}

void global_avg_pool_adjoint(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& [x, y, c, i, t, n] = dims();
  const int W = in.shape.width(), H = in.shape.height();
  Func g = f["d_out"];
  Func d_in(func_name(node.name, "d_in0"));
  d_in(x, y, c, n) = g(c, n) / float(W * H);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
