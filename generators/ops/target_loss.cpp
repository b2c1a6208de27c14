// target_loss — elementwise losses against float targets and weights given with the
// batch (dsl/layers.hpp), over images (C, H, W), flat (F) or sequences (T, F). With x(e, n) the input, t and w the targets' two planes and
// kind(c) = loss_kinds[c % kind_count] for the element's channel c:
//   loss = (1/N) sum_n sum_e w(e, n) l_kind(x, t)
//   squared:   l = (x - t)^2                                    l' = 2 (x - t)
//   smooth_l1: l = |d| < b ? d^2 / (2 b) : |d| - b/2, d = x - t  l' = clamp(d / b, -1, 1)
//   logistic:  l = max(x, 0) - x t + log(1 + exp(-|x|))         l' = sigmoid(x) - t
// Adjoint: d_x(e, n) = w(e, n) l'_kind(x, t) / N.
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {

// Whether channel c's kind is `kind`: an Expr over c, or a constant when every channel
// has it or none does.
Expr has_kind(const Node& node, Expr c, LossKind kind) {
  Expr any = Internal::const_false();
  int hits = 0;
  for (int k = 0; k < node.kind_count; ++k)
    if (node.loss_kinds[k] == kind) {
      any = any || (c % node.kind_count == k);
      ++hits;
    }
  if (hits == node.kind_count) return Internal::const_true();
  return hits == 0 ? Internal::const_false() : any;
}

// The loss (derivative = false) or its derivative by x of an element of channel c.
Expr element(const Node& node, Expr c, Expr x, Expr t, bool derivative) {
  const float b = node.alpha;
  const Expr d = x - t;
  const Expr squared = derivative ? 2.0f * d : d * d;
  const Expr smooth = derivative ? clamp(d / b, -1.0f, 1.0f)
                                 : select(abs(d) < b, d * d / (2.0f * b), abs(d) - b / 2.0f);
  const Expr logistic = derivative ? 1.0f / (1.0f + exp(-x)) - t
                                   : max(x, 0.0f) - x * t + log(1.0f + exp(-abs(x)));
  Expr value = logistic;
  const Expr is_squared = has_kind(node, c, LossKind::squared), is_smooth = has_kind(node, c, LossKind::smooth_l1);
  if (!Internal::is_const_zero(is_smooth)) value = select(is_smooth, smooth, value);
  if (!Internal::is_const_zero(is_squared)) value = select(is_squared, squared, value);
  return Internal::simplify(value);
}

// The channel of an element with arguments a of an activation of shape s: c of images,
// i (the feature) of flat outputs and sequences.
template <class V>
Expr channel_of(Shape s, const std::vector<V>& a) { return s.is_image() ? Expr(a[2]) : Expr(a[0]); }

// An RDom over every element of a batch of shape s, in Dims::of order.
RDom all_elements(Shape s, const Context& ctx) {
  if (s.is_image()) return RDom(0, s.width(), 0, s.height(), 0, s.channels(), 0, ctx.batch, "r_elements");
  if (s.is_sequence()) return RDom(0, s[1], 0, s[0], 0, ctx.batch, "r_elements");
  return RDom(0, s[0], 0, ctx.batch, "r_elements");
}

// The arguments of the targets' plane p at an element with arguments a.
template <class V>
std::vector<Expr> in_plane(const std::vector<V>& a, int p) {
  std::vector<Expr> at(a.begin(), a.end());
  at.insert(at.end() - 1, p);
  return at;
}

}  // namespace

void target_loss_forward(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const Shape s = in.shape;
  RDom r = all_elements(s, ctx);
  std::vector<Expr> at;
  for (int k = 0; k < r.dimensions(); ++k) at.push_back(r[k]);
  Func loss(func_name(node.name));  // one per head when there are several
  loss() = 0.0f;
  loss() += ctx.targets(in_plane(at, 1)) *
            element(node, channel_of(s, at), in.f(at), ctx.targets(in_plane(at, 0)), false) /
            cast<float>(ctx.batch);
  f["out"] = loss;
}

void target_loss_adjoint(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const std::vector<Var> args = dims().of(in.shape);
  Func d_in(func_name(node.name, "d_in0"));
  d_in(args) = ctx.targets(in_plane(args, 1)) *
               element(node, channel_of(in.shape, args), in.f(args), ctx.targets(in_plane(args, 0)), true) /
               cast<float>(ctx.batch);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
