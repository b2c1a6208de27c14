// softmax_cross_entropy — mean over the batch of -log softmax(logits)[label].
//   logits (K), labels(n) in [0, K) -> loss (a scalar)
//   lse(n) = m(n) + log sum_k exp(z(k, n) - m(n)),  m(n) = max_k z(k, n)
//   loss = (1/N) sum_n (lse(n) - z(label(n), n))
// Adjoint: d_z(k, n) = (exp(z(k, n) - lse(n)) - [k = label(n)]) / N
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

void softmax_cross_entropy_forward(const Tensor& logits, const Context& ctx, NodeFuncs& f) {
  const auto& [x, y, c, i, n] = dims();
  const int K = logits.shape[0];
  RDom rk(0, K, "r_class");
  Func m("loss_max");
  m(n) = maximum(logits.f(rk, n));
  Func lse("loss_logsumexp");
  lse(n) = m(n) + log(sum(exp(logits.f(rk, n) - m(n))));
  RDom rn(0, ctx.batch, "r_batch");
  Func loss("loss");
  loss() = 0.0f;
  loss() += (lse(rn) - logits.f(ctx.labels(rn), rn)) / cast<float>(ctx.batch);
  f["max"] = m;
  f["logsumexp"] = lse;
  f["out"] = loss;
}

void softmax_cross_entropy_adjoint(const Tensor& logits, const Context& ctx, NodeFuncs& f) {
  const auto& [x, y, c, i, n] = dims();
  Func lse = f["logsumexp"];
  Func d_in("loss_d_in0");
  d_in(i, n) = (exp(logits.f(i, n) - lse(n)) - select(i == ctx.labels(n), 1.0f, 0.0f)) /
               cast<float>(ctx.batch);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
