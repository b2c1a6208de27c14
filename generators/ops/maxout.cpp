// maxout(k) — Goodfellow et al. 2013: the maximum of k consecutive channels (features).
//   in (C, H, W) -> out (C/k, H, W): out(x, y, j, n) = max_{r < k} in(x, y, j k + r, n)
//   in (F)       -> out (F/k):       out(j, n)       = max_{r < k} in(j k + r, n)
//   no parameters; C (F) divisible by k.
// Adjoint: each output's gradient goes to its first maximal input (lowest r on ties, as
// max_pool and torch.max pick it):
//   d_in(x, y, c, n) = d_out(x, y, c / k, n) if c mod k is the argmax of output c / k, else 0
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {
// The output's channel (feature) dim and the per-sample args with it replaced by e.
std::vector<Expr> with_channel(const std::vector<Var>& args, bool image, Expr e) {
  std::vector<Expr> at(args.begin(), args.end());
  at[image ? 2 : 0] = e;
  return at;
}
}  // namespace

void maxout_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const std::vector<Var> args = dims().of(in.shape);
  const bool image = in.shape.is_image();
  const int k = node.groups;
  const Var j = args[image ? 2 : 0];
  RDom r(0, k, "r_pieces");
  const std::string name = func_name(node.name);
  // argmax keeps the first maximum on ties; element 0 is r, element 1 the maximum.
  Func am(name + "_argmax");
  am(args) = argmax(r, in.f(with_channel(args, image, j * k + r)));
  Func out(name);
  out(args) = am(args)[1];
  f["argmax"] = am;
  f["out"] = out;
}

void maxout_adjoint(const Node& node, const Tensor& in, NodeFuncs& f) {
  const std::vector<Var> args = dims().of(in.shape);
  const bool image = in.shape.is_image();
  const int k = node.groups;
  const Var c = args[image ? 2 : 0];
  Func am = f["argmax"], g = f["d_out"];
  const std::vector<Expr> of_out = with_channel(args, image, c / k);
  Func d_in(func_name(node.name, "d_in0"));
  d_in(args) = select(am(of_out)[0] == c % k, g(of_out), 0.0f);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
