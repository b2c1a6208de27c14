// dense — fully connected, on a flat input or at every step of a sequence.
//   in (F) or (T, F), weight [O, F] = w(i, o), bias [O] = b(o) (none with no_bias)
//   -> out (O) or (T, O)
//   out(o, [t,] n) = b(o) + sum_i w(i, o) in(i, [t,] n)
// Adjoint, with g = d_out and the sums over the batch (and the steps):
//   d_in(i, [t,] n) = sum_o w(i, o) g(o, [t,] n)
//   d_weight(i, o) = sum_{[t,] n} g(o, [t,] n) in(i, [t,] n)     d_bias(o) = sum_{[t,] n} g(o, [t,] n)
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {
// The dims of a sample of `s` after the feature dim: {n} or {t, n}.
std::vector<Expr> rows_of(Shape s) {
  const auto& d = dims();
  if (s.is_sequence()) return {d.t, d.n};
  return {d.n};
}
}  // namespace

void dense_forward(const Node& node, const Tensor& in, const Func& w, const Func& b,
                   NodeFuncs& f) {
  const auto& d = dims();
  const std::string name = func_name(node.name);
  const int F = in.shape.is_sequence() ? in.shape[1] : in.shape[0];
  RDom r(0, F, "r_in");
  std::vector<Expr> at = rows_of(in.shape);
  at.insert(at.begin(), r);
  // At every step of a sequence, a product over many rows that vectorizes over the
  // outputs: the weight with the outputs innermost.
  Func w_rows = w;
  if (in.shape.is_sequence()) {
    Var k("k");
    w_rows = Func(name + "_w_t");
    w_rows(d.i, k) = w(k, d.i);
    f["w_t"] = w_rows;
  }
  accumulate(f, "out", name, d.of(node.shape), b.defined() ? b(d.i) : Expr(0.0f),
             (in.shape.is_sequence() ? w_rows(d.i, r) : w(r, d.i)) * in.f(at));
}

void dense_adjoint(const Node& node, const Tensor& in, const Func& w, const Context& ctx,
                   NodeFuncs& f) {
  const auto& d = dims();
  const std::string name = func_name(node.name);
  Func g = f["d_out"];
  Var o("o");
  // The batch, and for a sequence the steps too: the rows every sum runs over.
  const bool sequence = in.shape.is_sequence();
  RDom rows = sequence ? RDom(0, in.shape[0], 0, ctx.batch, "r_rows") : RDom(0, ctx.batch, "r_batch");
  std::vector<Expr> row(rows.dimensions());
  for (int k = 0; k < rows.dimensions(); ++k) row[k] = rows[k];
  auto at = [&](Expr first) {
    std::vector<Expr> a = row;
    a.insert(a.begin(), first);
    return a;
  };
  if (node.bias) {
    Func d_bias(name + "_d_bias");
    d_bias(o) = 0.0f;
    d_bias(o) += g(at(o));
    f["d_bias"] = d_bias;
  }
  const std::vector<Var> in_args = d.of(in.shape);
  Func in_t(name + "_in_t");  // the input again, for a schedule to lay out for d_weight
  in_t(in_args) = in.f(in_args);
  Func d_weight(name + "_d_weight");
  d_weight(d.i, o) = 0.0f;
  d_weight(d.i, o) += g(at(o)) * in_t(at(d.i));
  RDom ro(0, sequence ? node.shape[1] : node.units, "r_out");
  std::vector<Expr> g_at = rows_of(in.shape);
  g_at.insert(g_at.begin(), ro);
  accumulate(f, "d_in0", name + "_d_in0", in_args, 0.0f, w(d.i, ro) * g(g_at));
  f["in_t"] = in_t;
  f["d_weight"] = d_weight;
}

}  // namespace kiln::gen::ops
