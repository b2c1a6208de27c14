// prelu — leaky_relu with a learned slope per channel (nn.PReLU(num_parameters=C)).
//   in (C, H, W) or (F), weight [C] (or [F]) = a(c) -> out of the same shape
//   out(x, y, c, n) = in > 0 ? in : a(c) in          (flat: out(i, n), slope a(i))
// Adjoint, with g = d_out:
//   d_in(x, y, c, n) = g (in > 0 ? 1 : a(c))
//   d_weight(c)      = sum_{n, y, x} (in > 0 ? 0 : g in)
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

void prelu_forward(const Node& node, const Tensor& in, const Func& w, NodeFuncs& f) {
  const std::vector<Var> args = dims().of(in.shape);
  const Var& channel = args[args.size() - 2];  // c of an image, i of a flat input
  Expr v = in.f(args);
  Func out(func_name(node.name));
  out(args) = select(v > 0.0f, v, w(channel) * v);
  f["out"] = out;
}

void prelu_adjoint(const Node& node, const Tensor& in, const Func& w, const Context& ctx,
                   NodeFuncs& f) {
  const std::vector<Var> args = dims().of(in.shape);
  const Var& channel = args[args.size() - 2];
  const std::string name = func_name(node.name);
  Func g = f["d_out"];
  Func d_in(name + "_d_in0");
  d_in(args) = select(in.f(args) > 0.0f, g(args), w(channel) * g(args));

  // The batch is the last RVar, as schedules' batch reductions expect.
  Func d_weight(name + "_d_weight");
  Var ch("ch");
  d_weight(ch) = 0.0f;
  if (in.shape.is_image()) {
    RDom r(0, in.shape.width(), 0, in.shape.height(), 0, ctx.batch, "r_out");
    Expr v = in.f(r.x, r.y, ch, r.z);
    d_weight(ch) += select(v > 0.0f, 0.0f, g(r.x, r.y, ch, r.z) * v);
  } else {
    RDom r(0, ctx.batch, "r_batch");
    Expr v = in.f(ch, r);
    d_weight(ch) += select(v > 0.0f, 0.0f, g(ch, r) * v);
  }
  f["d_in0"] = d_in;
  f["d_weight"] = d_weight;
}

}  // namespace kiln::gen::ops
