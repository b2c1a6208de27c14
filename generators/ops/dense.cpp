// dense — fully connected.
//   in (F), weight [O, F] = w(i, o), bias [O] = b(o) (none with no_bias) -> out (O)
//   out(o, n) = b(o) + sum_i w(i, o) in(i, n)
// Adjoint, with g = d_out:
//   d_in(i, n) = sum_o w(i, o) g(o, n)
//   d_weight(i, o) = sum_n g(o, n) in(i, n)        d_bias(o) = sum_n g(o, n)
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

void dense_forward(const Node& node, const Tensor& in, const Func& w, const Func& b,
                   NodeFuncs& f) {
  const auto& [x, y, c, i, n] = dims();
  const std::string name = func_name(node.name);
  RDom r(0, in.shape[0], "r_in");
  accumulate(f, "out", name, {i, n}, b.defined() ? b(i) : Expr(0.0f), w(r, i) * in.f(r, n));
}

void dense_adjoint(const Node& node, const Tensor& in, const Func& w, const Context& ctx,
                   NodeFuncs& f) {
  const auto& [x, y, c, i, n] = dims();
  const std::string name = func_name(node.name);
  Func g = f["d_out"];
  Var o("o");
  RDom rb(0, ctx.batch, "r_batch");
  if (node.bias) {
    Func d_bias(name + "_d_bias");
    d_bias(o) = 0.0f;
    d_bias(o) += g(o, rb);
    f["d_bias"] = d_bias;
  }
  Func in_t(name + "_in_t");  // the input again, for a schedule to lay out for d_weight
  in_t(i, n) = in.f(i, n);
  Func d_weight(name + "_d_weight");
  d_weight(i, o) = 0.0f;
  d_weight(i, o) += g(o, rb) * in_t(i, rb);
  RDom ro(0, node.units, "r_out");
  accumulate(f, "d_in0", name + "_d_in0", {i, n}, 0.0f, w(i, ro) * g(ro, n));
  f["in_t"] = in_t;
  f["d_weight"] = d_weight;
}

}  // namespace kiln::gen::ops
