#include "generators/lowering.hpp"

#include "generators/ops/ops.hpp"

namespace kiln::gen {
using namespace Halide;

const Dims& dims() {
  static const Dims d;
  return d;
}

std::vector<Var> Dims::positions(Shape logits) const {
  if (logits.is_image()) return {x, y, n};
  if (logits.is_sequence()) return {t, n};
  return {n};
}

std::vector<Var> Dims::of(Shape s) const {
  if (s.is_image()) return {x, y, c, n};
  if (s.is_flat()) return {i, n};
  if (s.is_sequence()) return {i, t, n};
  throw std::runtime_error("kiln: activations of rank " + std::to_string(s.rank) +
                           " are not lowered yet");
}

std::vector<Var> Dims::targets_of(Shape s) const {
  static const Var plane("plane");
  std::vector<Var> args = of(s);
  args.insert(args.end() - 1, plane);
  return args;
}

Expr flat_index(Shape s, const std::vector<Expr>& a) {
  if (s.is_image()) return a[0] + s.width() * (a[1] + s.height() * a[2]);
  if (s.is_sequence()) return a[0] + s[1] * a[1];
  return a[0];
}

std::vector<Expr> element_at(Shape s, Expr j) {
  if (s.is_image()) return {j % s.width(), (j / s.width()) % s.height(), j / (s.width() * s.height())};
  if (s.is_sequence()) return {j % s[1], j / s[1]};
  return {j};
}

ConvLowering Context::lowering_of(const Node& conv) const {
  return lowering_named(knob(knobs, conv.name.view(), "lowering")).value_or(ConvLowering::direct);
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
  // Halide dim d is PyTorch dim rank - 1 - d; the index follows the stored axes.
  std::vector<Var> args(p.shape.rank);
  Expr index = 0;
  const Parameter::Axes axes = p.axes();
  for (int j = 0; j < axes.count; ++j) {
    const Parameter::Axis& a = axes.at[j];
    Expr i = args[p.shape.rank - 1 - a.dim];
    if (a.divisor > 1) i = i / int(a.divisor);
    if (a.divisor * a.extent < p.shape[a.dim]) i = i % int(a.extent);
    index += i * int(a.stride);
  }
  view(args) = flat(Expr(int(p.offset)) + index);
  return view;
}

void scatter_parameter(Func& flat, const Func& d_param, const Parameter& p) {
  // The reduction runs over the stored axes, innermost first: contiguous writes.
  const Parameter::Axes axes = p.axes();
  Region ranges(axes.count);
  for (int j = 0; j < axes.count; ++j) ranges[j] = {0, int(axes.at[j].extent)};
  RDom r(ranges, func_name(p.name, "r"));
  std::vector<Expr> at(p.shape.rank, 0);
  Expr index = 0;
  for (int j = 0; j < axes.count; ++j) {
    const Parameter::Axis& a = axes.at[j];
    at[p.shape.rank - 1 - a.dim] += r[j] * int(a.divisor);
    index += r[j] * int(a.stride);
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
    case Op::conv2d:
      ops::conv2d_forward(node, in[0], params[0], bias_of(params), ctx.lowering_of(node), f);
      break;
    case Op::conv_transpose2d:
      ops::conv_transpose2d_forward(node, in[0], params[0], bias_of(params), f);
      break;
    case Op::upsample_bilinear: ops::upsample_bilinear_forward(node, in[0], f); break;
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
    case Op::embedding: ops::embedding_forward(node, in[0], params[0], f); break;
    case Op::one_hot: ops::embedding_forward(node, in[0], Func(), f); break;
    case Op::rnn:
    case Op::lstm:
    case Op::gru: ops::recurrent_forward(node, in[0], params, f); break;
    case Op::softmax_cross_entropy: ops::softmax_cross_entropy_forward(in[0], ctx, f); break;
    case Op::target_loss: ops::target_loss_forward(node, in[0], ctx, f); break;
    case Op::roi_align: ops::roi_align_forward(node, in[0], ctx, f); break;
    case Op::roi_pool: ops::roi_pool_forward(node, in[0], ctx, f); break;
    case Op::heads: ops::heads_forward(node, in, f); break;
    case Op::affine_sample: ops::affine_sample_forward(node, in[0], in[1], f); break;
    case Op::coordinates: ops::coordinates_forward(node, in[0], f); break;
    case Op::attention_lstm: ops::attention_lstm_forward(node, in[0], in[1], params, f); break;
    case Op::input: break;
  }
}

void lower_adjoint(const Node& node, std::span<const Tensor> in, std::span<const Func> params,
                   const Context& ctx, NodeFuncs& f) {
  switch (node.op) {
    case Op::conv2d: ops::conv2d_adjoint(node, in[0], params[0], ctx, ctx.lowering_of(node), f); break;
    case Op::conv_transpose2d: ops::conv_transpose2d_adjoint(node, in[0], params[0], ctx, f); break;
    case Op::upsample_bilinear: ops::upsample_bilinear_adjoint(node, in[0], f); break;
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
    case Op::embedding:
    case Op::one_hot: ops::embedding_adjoint(node, in[0], ctx, f); break;
    case Op::rnn:
    case Op::lstm:
    case Op::gru: ops::recurrent_adjoint(node, in[0], params, ctx, f); break;
    case Op::softmax_cross_entropy: ops::softmax_cross_entropy_adjoint(in[0], ctx, f); break;
    case Op::target_loss: ops::target_loss_adjoint(node, in[0], ctx, f); break;
    case Op::roi_align: ops::roi_align_adjoint(node, in[0], ctx, f); break;
    case Op::roi_pool: ops::roi_pool_adjoint(node, in[0], ctx, f); break;
    case Op::affine_sample: ops::affine_sample_adjoint(node, in[0], in[1], f); break;
    case Op::coordinates: ops::coordinates_adjoint(node, in[0], f); break;
    case Op::attention_lstm: ops::attention_lstm_adjoint(node, in[0], in[1], params, ctx, f); break;
    case Op::heads:  // the model's output: nothing reads it, so it has no adjoint
    case Op::input: break;
  }
}

}  // namespace kiln::gen
