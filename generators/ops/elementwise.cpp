// Ops that keep or merely re-index their input: flatten, activations, add, concat.
//   flatten   (C, H, W) -> (C H W), in PyTorch's order: i = (c H + y) W + x
//   relu      out = max(in, 0)           d_in = d_out where in > 0 (0 at in = 0, as PyTorch)
//   sigmoid   out = 1 / (1 + e^-in)      d_in = d_out out (1 - out)
//   tanh      out = tanh(in)             d_in = d_out (1 - out^2)
//   leaky_relu out = in > 0 ? in : a in  d_in = d_out (in > 0 ? 1 : a)      a = Node::alpha
//   elu       out = in > 0 ? in : a (e^in - 1)
//                                        d_in = d_out (in > 0 ? 1 : out + a) a = Node::alpha
//   normalize out = (in - mean[c]) / std[c] (fixed; torchvision's Normalize)
//                                        d_in = d_out / std[c]
//   add       out = a + b (same shape)   d_a = d_b = d_out
//   concat    out = [a; b; ...] along channels; d_k = d_out's slice of input k
#include "generators/halide_math.hpp"
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

void flatten_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& d = dims();
  Func out(func_name(node.name));
  std::vector<Expr> at = element_at(in.shape, d.i);
  at.push_back(d.n);
  out(d.i, d.n) = in.f(at);
  f["out"] = out;
}

void flatten_adjoint(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& d = dims();
  Func d_in(func_name(node.name, "d_in0"));
  const std::vector<Var> args = d.of(in.shape);
  d_in(args) = f["d_out"](flat_index(in.shape, std::vector<Expr>(args.begin(), args.end() - 1)), d.n);
  f["d_in0"] = d_in;
}

void heads_forward(const Node& node, std::span<const Tensor> in, NodeFuncs& f) {
  const auto& d = dims();
  // Head k holds the flat elements [begin_k, begin_k + size_k).
  std::vector<int> begin;
  int total = 0;
  for (const Tensor& t : in) {
    begin.push_back(total);
    total += int(t.shape.elements());
  }
  auto element_of = [&](std::size_t k) {
    const int size = int(in[k].shape.elements());
    std::vector<Expr> at = element_at(in[k].shape, clamp(d.i - begin[k], 0, size - 1));
    at.push_back(d.n);
    return in[k].f(at);
  };
  Expr v = element_of(in.size() - 1);
  for (int k = int(in.size()) - 2; k >= 0; --k) v = select(d.i < begin[k + 1], element_of(k), v);
  Func out(func_name(node.name));
  out(d.i, d.n) = v;
  f["out"] = out;
}

void activation_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const Op op = node.op;
  const std::vector<Var> args = dims().of(in.shape);
  Expr v = in.f(args);
  Func out(func_name(node.name));
  const float a = node.alpha;
  if (op == Op::relu) out(args) = max(v, 0.0f);
  else if (op == Op::sigmoid) out(args) = 1.0f / (1.0f + exp(-v));
  else if (op == Op::leaky_relu) out(args) = select(v > 0.0f, v, a * v);
  else if (op == Op::elu) out(args) = select(v > 0.0f, v, a * (exp(v) - 1.0f));
  else out(args) = tanh_vectorized(v);
  f["out"] = out;
}

void activation_adjoint(const Node& node, const Tensor& in, NodeFuncs& f) {
  const Op op = node.op;
  const std::vector<Var> args = dims().of(in.shape);
  Expr g = f["d_out"](args), out = f["out"](args);
  Func d_in(func_name(node.name, "d_in0"));
  const float a = node.alpha;
  Expr positive = in.f(args) > 0.0f;
  if (op == Op::relu) d_in(args) = select(positive, g, 0.0f);
  else if (op == Op::sigmoid) d_in(args) = g * out * (1.0f - out);
  else if (op == Op::leaky_relu) d_in(args) = select(positive, g, a * g);
  else if (op == Op::elu) d_in(args) = select(positive, g, g * (out + a));
  else d_in(args) = g * (1.0f - out * out);
  f["d_in0"] = d_in;
}

void merge_forward(const Node& node, std::span<const Tensor> in, NodeFuncs& f) {
  const Op op = node.op;
  const auto& d = dims();
  const std::vector<Var> args = d.of(in[0].shape);
  Func out(func_name(node.name));
  if (op == Op::add) {
    out(args) = in[0].f(args) + in[1].f(args);
  } else {  // concat along channels: input k holds channels [begin_k, begin_k + C_k)
    std::vector<int> begin;
    int total = 0;
    for (const Tensor& t : in) { begin.push_back(total); total += t.shape.channels(); }
    auto channel_of = [&](std::size_t k) {
      const int ck = in[k].shape.channels();
      return in[k].f(d.x, d.y, clamp(d.c - begin[k], 0, ck - 1), d.n);
    };
    Expr v = channel_of(in.size() - 1);
    for (int k = int(in.size()) - 2; k >= 0; --k)
      v = select(d.c < begin[k] + in[k].shape.channels(), channel_of(k), v);
    out(args) = v;
  }
  f["out"] = out;
}

void merge_adjoint(const Node& node, std::span<const Tensor> in, NodeFuncs& f) {
  const Op op = node.op;
  const auto& d = dims();
  Func g = f["d_out"];
  int begin = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::vector<Var> args = d.of(in[k].shape);
    Func d_in(func_name(node.name, "d_in" + std::to_string(k)));
    if (op == Op::add) d_in(args) = g(args);
    else d_in(d.x, d.y, d.c, d.n) = g(d.x, d.y, d.c + begin, d.n);
    if (op == Op::concat) begin += in[k].shape.channels();
    f["d_in" + std::to_string(k)] = d_in;
  }
}

void normalize_forward(const Node& node, const Tensor& in, NodeFuncs& f) {
  const auto& d = dims();
  Expr mean = node.channel_mean[0], inv_std = 1.0f / node.channel_std[0];
  for (int k = 1; k < node.channel_values; ++k) {
    mean = select(d.c == k, node.channel_mean[k], mean);
    inv_std = select(d.c == k, 1.0f / node.channel_std[k], inv_std);
  }
  Func out(func_name(node.name)), inv(func_name(node.name, "inv_std"));
  inv(d.c) = inv_std;
  out(d.x, d.y, d.c, d.n) = (in.f(d.x, d.y, d.c, d.n) - mean) * inv(d.c);
  f["inv_std"] = inv;
  f["out"] = out;
}

void normalize_adjoint(const Node& node, const Tensor&, NodeFuncs& f) {
  const auto& d = dims();
  Func d_in(func_name(node.name, "d_in0"));
  d_in(d.x, d.y, d.c, d.n) = f["d_out"](d.x, d.y, d.c, d.n) * f["inv_std"](d.c);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
