#include "generators/lowering.hpp"

#include "generators/ops/ops.hpp"

namespace kiln::gen {
using namespace Halide;

const Dims& dims() {
  static const Dims d;
  return d;
}

std::vector<Var> Dims::of(Shape s) const {
  if (s.is_image()) return {x, y, c, n};
  if (s.is_flat()) return {i, n};
  throw std::runtime_error("kiln: activations of rank " + std::to_string(s.rank) +
                           " are not lowered yet");
}

std::string func_name(const Label& name, std::string_view role) {
  std::string s(name.view());
  for (char& ch : s)
    if (ch == '.') ch = '_';
  if (!role.empty()) s.append("_").append(role);
  return s;
}

void accumulate(NodeFuncs& f, const std::string& role, const std::string& name,
                const std::vector<Var>& args, Expr init, Expr term) {
  Func acc(name + "_acc"), out(name);
  acc(args) = init;
  acc(args) += term;
  out(args) = acc(args);
  f[role] = out;
  f[role + "_acc"] = acc;
}

Func parameter_view(const Func& flat, const Parameter& p) {
  Func view(func_name(p.name));
  // Halide dim d is PyTorch dim rank - 1 - d; its stride follows the storage order.
  std::vector<Var> args(p.shape.rank);
  Expr index = 0;
  for (int d = 0; d < p.shape.rank; ++d) index += args[d] * int(p.stride(p.shape.rank - 1 - d));
  view(args) = flat(Expr(int(p.offset)) + index);
  return view;
}

void scatter_parameter(Func& flat, const Func& d_param, const Parameter& p) {
  // The reduction runs in storage order, innermost first: contiguous writes.
  Region ranges(p.shape.rank);
  std::vector<int> dim_of(p.shape.rank);  // RDom dim j -> Halide dim of the parameter
  for (int j = 0; j < p.shape.rank; ++j) {
    const int k = p.storage[p.shape.rank - 1 - j];  // PyTorch dim, innermost stored first
    dim_of[j] = p.shape.rank - 1 - k;
    ranges[j] = {0, p.shape[k]};
  }
  RDom r(ranges, func_name(p.name, "r"));
  std::vector<Expr> at(p.shape.rank);
  Expr index = 0;
  for (int j = 0; j < p.shape.rank; ++j) {
    at[dim_of[j]] = r[j];
    index += r[j] * int(p.stride(p.shape.rank - 1 - dim_of[j]));
  }
  flat(Expr(int(p.offset)) + index) = d_param(at);
}

namespace {
// A layer's bias view, or an undefined Func for a layer built with no_bias.
Func bias_of(std::span<const Func> params) { return params.size() > 1 ? params[1] : Func(); }
}  // namespace

void lower_forward(const Node& node, std::span<const Tensor> in, std::span<const Func> params,
                   const Context& ctx, NodeFuncs& f) {
  switch (node.op) {
    case Op::conv2d: ops::conv2d_forward(node, in[0], params[0], bias_of(params), f); break;
    case Op::max_pool:
    case Op::avg_pool: ops::pool_forward(node, in[0], f); break;
    case Op::dense: ops::dense_forward(node, in[0], params[0], bias_of(params), f); break;
    case Op::flatten: ops::flatten_forward(node, in[0], f); break;
    case Op::relu:
    case Op::sigmoid:
    case Op::tanh:
    case Op::leaky_relu:
    case Op::elu: ops::activation_forward(node, in[0], f); break;
    case Op::prelu: ops::prelu_forward(node, in[0], params[0], f); break;
    case Op::global_avg_pool: ops::global_avg_pool_forward(node, in[0], f); break;
    case Op::batch_norm: ops::batch_norm_forward(node, in[0], params, ctx, f); break;
    case Op::dropout: ops::dropout_forward(node, in[0], ctx, f); break;
    case Op::normalize: ops::normalize_forward(node, in[0], f); break;
    case Op::maxout: ops::maxout_forward(node, in[0], f); break;
    case Op::add:
    case Op::concat: ops::merge_forward(node, in, f); break;
    case Op::softmax_cross_entropy: ops::softmax_cross_entropy_forward(in[0], ctx, f); break;
    case Op::input: break;
  }
}

void lower_adjoint(const Node& node, std::span<const Tensor> in, std::span<const Func> params,
                   const Context& ctx, NodeFuncs& f) {
  switch (node.op) {
    case Op::conv2d: ops::conv2d_adjoint(node, in[0], params[0], ctx, f); break;
    case Op::max_pool:
    case Op::avg_pool: ops::pool_adjoint(node, in[0], f); break;
    case Op::dense: ops::dense_adjoint(node, in[0], params[0], ctx, f); break;
    case Op::flatten: ops::flatten_adjoint(node, in[0], f); break;
    case Op::relu:
    case Op::sigmoid:
    case Op::tanh:
    case Op::leaky_relu:
    case Op::elu: ops::activation_adjoint(node, in[0], f); break;
    case Op::prelu: ops::prelu_adjoint(node, in[0], params[0], ctx, f); break;
    case Op::global_avg_pool: ops::global_avg_pool_adjoint(node, in[0], f); break;
    case Op::batch_norm: ops::batch_norm_adjoint(node, in[0], params, ctx, f); break;
    case Op::dropout: ops::dropout_adjoint(node, in[0], f); break;
    case Op::normalize: ops::normalize_adjoint(node, in[0], f); break;
    case Op::maxout: ops::maxout_adjoint(node, in[0], f); break;
    case Op::add:
    case Op::concat: ops::merge_adjoint(node, in, f); break;
    case Op::softmax_cross_entropy: ops::softmax_cross_entropy_adjoint(in[0], ctx, f); break;
    case Op::input: break;
  }
}

}  // namespace kiln::gen
