// softmax_cross_entropy — the mean of -log softmax(logits)[label] over the batch, over
// every step of every sequence in the batch (per-step logits (T, K)), or over every
// pixel of every image (per-pixel logits (K, H, W)).
//   logits (K), (T, K) or (K, H, W); labels(p) in [0, K) -> loss (a scalar)
//   with p a position ((n), (t, n) or (x, y, n)) and P the number of positions (N, T N
//   or H W N):
//   lse(p) = m(p) + log sum_k exp(z(k, p) - m(p)),  m(p) = max_k z(k, p)
//   loss = (1/P) sum_p (lse(p) - z(label(p), p))
// Adjoint: d_z(k, p) = (exp(z(k, p) - lse(p)) - [k = label(p)]) / P
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {
// How many positions of logits of shape s there are: N times the labels per sample.
Expr position_count(Shape s, const Context& ctx) {
  return cast<float>(ctx.batch) * float(label_shape(s).elements());
}
// The logits' arguments at class k and position p: the class is dim 0 of flat and
// per-step logits (k, n), (k, t, n), and dim 2 of images (x, y, k, n).
template <class V>
std::vector<Expr> with_class(Shape s, Expr k, const std::vector<V>& p) {
  std::vector<Expr> a(p.begin(), p.end());
  a.insert(s.is_image() ? a.begin() + 2 : a.begin(), k);
  return a;
}
// An RDom over every position of a batch of logits of shape s.
RDom all_positions(Shape s, const Context& ctx) {
  if (s.is_image()) return RDom(0, s.width(), 0, s.height(), 0, ctx.batch, "r_pixels");
  if (s.is_sequence()) return RDom(0, s[0], 0, ctx.batch, "r_positions");
  return RDom(0, ctx.batch, "r_batch");
}
}  // namespace

void softmax_cross_entropy_forward(const Tensor& logits, const Context& ctx, NodeFuncs& f) {
  const Shape s = logits.shape;
  const std::vector<Var> p = dims().positions(s);
  RDom rk(0, class_count(s), "r_class");
  Func m("loss_max");
  m(p) = maximum(logits.f(with_class(s, rk, p)));
  Func lse("loss_logsumexp");
  lse(p) = m(p) + log(sum(exp(logits.f(with_class(s, rk, p)) - m(p))));
  RDom rp = all_positions(s, ctx);
  std::vector<Expr> at(rp.dimensions());
  for (int k = 0; k < rp.dimensions(); ++k) at[k] = rp[k];
  Func loss("loss");
  loss() = 0.0f;
  loss() += (lse(at) - logits.f(with_class(s, ctx.labels(at), at))) / position_count(s, ctx);
  f["max"] = m;
  f["logsumexp"] = lse;
  f["out"] = loss;
}

void softmax_cross_entropy_adjoint(const Tensor& logits, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const Shape s = logits.shape;
  const std::vector<Var> p = d.positions(s), args = d.of(s);
  const Var k = s.is_image() ? d.c : d.i;  // the class dim
  Func lse = f["logsumexp"];
  Func d_in("loss_d_in0");
  d_in(args) = (exp(logits.f(args) - lse(p)) - select(k == ctx.labels(p), 1.0f, 0.0f)) /
               position_count(s, ctx);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
