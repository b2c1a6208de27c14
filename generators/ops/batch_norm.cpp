// batch_norm — nn.BatchNorm2d on (C, H, W), nn.BatchNorm1d on (F); per channel ch:
//   weight [C] = gamma(ch), bias [C] = beta(ch); buffers running_mean, running_var [C],
//   num_batches_tracked [] (a count)
//   out = in scale(ch) + shift(ch),  scale = gamma / sqrt(var + eps),  shift = beta - mean scale
// Training (Context::training): mean and var are the batch's, over the M = N H W values
// of a channel, var biased (divided by M); the new running statistics are
//   running_mean' = (1 - momentum) running_mean + momentum mean
//   running_var'  = (1 - momentum) running_var + momentum var M / (M - 1)
//   num_batches_tracked' = num_batches_tracked + 1
// Inference: mean and var are the running ones.
// Adjoint (training), with g = d_out and xhat = (in - mean) / sqrt(var + eps):
//   d_bias(ch) = sum g      d_weight(ch) = sum g xhat
//   d_in = scale(ch) (g - d_bias(ch) / M - xhat d_weight(ch) / M)
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {

// The channel Var of an activation's args (c of an image, i of a flat input) and a
// reduction over everything else, the batch last (as schedules' batch reductions expect).
struct ChannelReduction {
  Var channel;
  RDom r;
  Expr count;  // M, as a float
  Expr at(const Func& f) const { return r.dimensions() == 3 ? f(r.x, r.y, channel, r.z) : f(channel, r.x); }
};

ChannelReduction over_channel(const Tensor& in, const Context& ctx) {
  const auto& d = dims();
  if (in.shape.is_image()) {
    RDom r(0, in.shape.width(), 0, in.shape.height(), 0, ctx.batch, "r_pixels");
    return {d.c, r, cast<float>(in.shape.width() * in.shape.height() * ctx.batch)};
  }
  RDom r(0, ctx.batch, "r_batch");
  return {d.i, r, cast<float>(ctx.batch)};
}

}  // namespace

void batch_norm_forward(const Node& node, const Tensor& in, std::span<const Func> p,
                        const Context& ctx, NodeFuncs& f) {
  const Func &gamma = p[0], &beta = p[1], &running_mean = p[2], &running_var = p[3];
  const std::string name = func_name(node.name);
  const std::vector<Var> args = dims().of(in.shape);
  const ChannelReduction red = over_channel(in, ctx);
  const Var ch = red.channel;
  Func mean(name + "_mean"), inv_std(name + "_inv_std");
  if (ctx.training) {
    Func sum(name + "_sum"), squares(name + "_squares");
    sum(ch) = 0.0f;
    sum(ch) += red.at(in.f);
    mean(ch) = sum(ch) / red.count;
    // Two passes: the squared deviations from the mean, not E[x^2] - E[x]^2, which
    // cancels badly in float32 when the mean is large next to the spread.
    squares(ch) = 0.0f;
    squares(ch) += pow(red.at(in.f) - mean(ch), 2);
    inv_std(ch) = 1.0f / sqrt(squares(ch) / red.count + node.epsilon);
    const float m = node.momentum;
    Func new_mean(name + "_running_mean_new"), new_var(name + "_running_var_new");
    Func new_count(name + "_batches_tracked_new");
    new_mean(ch) = (1.0f - m) * running_mean(ch) + m * mean(ch);
    new_var(ch) = (1.0f - m) * running_var(ch) + m * squares(ch) / max(red.count - 1.0f, 1.0f);
    new_count() = p[4]() + 1.0f;
    f["sum"] = sum;
    f["squares"] = squares;
    f["running_mean_new"] = new_mean;
    f["running_var_new"] = new_var;
    f["batches_tracked_new"] = new_count;
  } else {
    mean(ch) = running_mean(ch);
    inv_std(ch) = 1.0f / sqrt(running_var(ch) + node.epsilon);
  }
  Func scale(name + "_scale"), shift(name + "_shift");
  scale(ch) = gamma(ch) * inv_std(ch);
  shift(ch) = beta(ch) - mean(ch) * scale(ch);
  Func out(name);
  const Var& c = args[args.size() - 2];
  out(args) = in.f(args) * scale(c) + shift(c);
  f["mean"] = mean;
  f["inv_std"] = inv_std;
  f["scale"] = scale;
  f["shift"] = shift;
  f["out"] = out;
}

void batch_norm_adjoint(const Node& node, const Tensor& in, std::span<const Func>,
                        const Context& ctx, NodeFuncs& f) {
  const std::string name = func_name(node.name);
  const std::vector<Var> args = dims().of(in.shape);
  const ChannelReduction red = over_channel(in, ctx);
  const Var ch = red.channel;
  Func g = f["d_out"], mean = f["mean"], inv_std = f["inv_std"], scale = f["scale"];
  Func d_bias(name + "_d_bias"), centered_sum(name + "_centered_sum");
  d_bias(ch) = 0.0f;
  d_bias(ch) += red.at(g);
  centered_sum(ch) = 0.0f;  // sum g (in - mean)
  centered_sum(ch) += red.at(g) * (red.at(in.f) - mean(ch));
  Func d_weight(name + "_d_weight");  // sum g xhat
  d_weight(ch) = centered_sum(ch) * inv_std(ch);
  Func d_in(name + "_d_in0");
  const Var& c = args[args.size() - 2];
  Expr xhat = (in.f(args) - mean(c)) * inv_std(c);
  d_in(args) = scale(c) * (g(args) - (d_bias(c) + xhat * d_weight(c)) / red.count);
  f["centered_sum"] = centered_sum;
  f["d_bias"] = d_bias;
  f["d_weight"] = d_weight;
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
