// softmax_cross_entropy — the mean of -log softmax(logits)[label] over the batch, or
// over every step of every sequence in the batch (per-step logits (T, K)).
//   logits (K) or (T, K), labels(n) or labels(t, n) in [0, K) -> loss (a scalar)
//   with p a position ((n) or (t, n)) and P the number of positions (N or T N):
//   lse(p) = m(p) + log sum_k exp(z(k, p) - m(p)),  m(p) = max_k z(k, p)
//   loss = (1/P) sum_p (lse(p) - z(label(p), p))
// Adjoint: d_z(k, p) = (exp(z(k, p) - lse(p)) - [k = label(p)]) / P
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {
// The positions of logits of shape s: their vars, and how many there are.
std::vector<Var> positions(Shape s) {
  const auto& d = dims();
  return s.is_sequence() ? std::vector<Var>{d.t, d.n} : std::vector<Var>{d.n};
}
Expr position_count(Shape s, const Context& ctx) {
  return cast<float>(ctx.batch) * float(s.is_sequence() ? s[0] : 1);
}
template <class V>
std::vector<Expr> with_class(Expr k, const std::vector<V>& p) {
  std::vector<Expr> a(p.begin(), p.end());
  a.insert(a.begin(), k);
  return a;
}
}  // namespace

void softmax_cross_entropy_forward(const Tensor& logits, const Context& ctx, NodeFuncs& f) {
  const Shape s = logits.shape;
  const int K = s.is_sequence() ? s[1] : s[0];
  const std::vector<Var> p = positions(s);
  RDom rk(0, K, "r_class");
  Func m("loss_max");
  m(p) = maximum(logits.f(with_class(rk, p)));
  Func lse("loss_logsumexp");
  lse(p) = m(p) + log(sum(exp(logits.f(with_class(rk, p)) - m(p))));
  RDom rp = s.is_sequence() ? RDom(0, s[0], 0, ctx.batch, "r_positions") : RDom(0, ctx.batch, "r_batch");
  std::vector<Expr> at(rp.dimensions());
  for (int k = 0; k < rp.dimensions(); ++k) at[k] = rp[k];
  Func loss("loss");
  loss() = 0.0f;
  loss() += (lse(at) - logits.f(with_class(ctx.labels(at), at))) / position_count(s, ctx);
  f["max"] = m;
  f["logsumexp"] = lse;
  f["out"] = loss;
}

void softmax_cross_entropy_adjoint(const Tensor& logits, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const Shape s = logits.shape;
  const std::vector<Var> p = positions(s), args = d.of(s);
  Func lse = f["logsumexp"];
  Func d_in("loss_d_in0");
  d_in(args) = (exp(logits.f(args) - lse(p)) - select(d.i == ctx.labels(p), 1.0f, 0.0f)) /
               position_count(s, ctx);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
