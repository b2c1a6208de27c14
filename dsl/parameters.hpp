// The parameter table: every tensor's PyTorch name, PyTorch shape, initializer and
// offset. Learned tensors (weight, bias) live in the model's flat parameter buffer,
// which gradients and optimizer state mirror. Buffers — batch norm's running
// statistics, which training updates but no optimizer touches, PyTorch's
// register_buffer — live in a second flat buffer.
#pragma once
#include "dsl/layers.hpp"

namespace kiln {

enum class ParameterRole : unsigned char {
  weight,
  bias,
  weight_ih,  // recurrent layers, PyTorch's names for layer 0: weight_ih_l0, ...
  weight_hh,
  bias_ih,
  bias_hh,
  key_weight,  // attention_lstm's keys: key.weight [H, C] (no bias: the softmax would cancel it)
  running_mean,     // buffers from here on
  running_var,
  batches_tracked,  // num_batches_tracked: a count, stored as float, saved as int64
};
constexpr bool is_buffer(ParameterRole r) { return r >= ParameterRole::running_mean; }
constexpr std::string_view role_name(ParameterRole r) {
  switch (r) {
    case ParameterRole::weight: return "weight";
    case ParameterRole::bias: return "bias";
    case ParameterRole::weight_ih: return "weight_ih_l0";
    case ParameterRole::weight_hh: return "weight_hh_l0";
    case ParameterRole::bias_ih: return "bias_ih_l0";
    case ParameterRole::bias_hh: return "bias_hh_l0";
    case ParameterRole::key_weight: return "key.weight";
    case ParameterRole::running_mean: return "running_mean";
    case ParameterRole::running_var: return "running_var";
    case ParameterRole::batches_tracked: return "num_batches_tracked";
  }
  return "?";
}

struct Parameter {
  Label name{};        // "conv1.weight"
  Shape shape{};       // PyTorch order: conv OIHW, dense [out, in], bias [out], prelu [C]
  long long offset = 0;  // in floats, into the flat parameter buffer (buffers: the buffer one)
  ParameterRole role = ParameterRole::weight;
  Init init = Init::zeros;
  float init_value = 0.0f;  // Init::constant: every element's starting value
  int node = -1;       // index of the node that owns it; -1 marks an unused table slot
  int fan_in = 0, fan_out = 0;
  // Memory order in the flat buffer: storage[k] is the PyTorch dim stored k-th outermost,
  // and with `block` > 0 PyTorch dim 0 (stored innermost) is cut in blocks of `block`:
  // the block index outermost, the position within a block innermost. Conv weights
  // [O, C, KH, KW] are stored [KH][KW][C][O], output channels innermost, so that schedules
  // vectorize over output channels with no re-layout per call; with more than 16 output
  // channels (a multiple of 16), [O/16][KH][KW][C][16], so that a tile of output channels
  // reads its weights as a few contiguous streams, not rows a power of two apart, which
  // share a handful of cache sets (measured: ResNet-18's layer4 convs at batch 1, 1.5 ms
  // each unblocked, 0.6-0.9 ms blocked). Files always hold PyTorch's order; the runtime
  // permutes at load and save (below).
  std::array<int, 4> storage{0, 1, 2, 3};
  int block = 0;

  // A stored axis: PyTorch index i along `dim` contributes (i / divisor % extent) * stride.
  struct Axis {
    int dim;
    long long divisor, extent, stride;
  };
  struct Axes {
    std::array<Axis, 5> at{};  // innermost first
    int count = 0;
  };
  constexpr Axes axes() const {
    Axes a;
    long long stride = 1;
    auto add = [&](int dim, long long divisor, long long extent) {
      a.at[a.count++] = {dim, divisor, extent, stride};
      stride *= extent;
    };
    for (int j = shape.rank - 1; j >= 0; --j) {
      const int k = storage[j];
      if (block > 0 && k == 0) add(0, 1, block);
      else add(k, 1, shape[k]);
    }
    if (block > 0) add(0, block, shape[0] / block);
    return a;
  }

  constexpr long long size() const { return node < 0 ? 0 : shape.elements(); }
  // Where element e of the tensor in PyTorch's row-major order lives in the flat buffer.
  constexpr long long flat_index(long long e) const {
    std::array<long long, 4> index{};
    for (int k = shape.rank - 1; k >= 0; --k) {
      index[k] = e % shape[k];
      e /= shape[k];
    }
    long long at = offset;
    const Axes a = axes();
    for (int j = 0; j < a.count; ++j) {
      const Axis& x = a.at[j];
      at += index[x.dim] / x.divisor % x.extent * x.stride;
    }
    return at;
  }
  friend constexpr bool operator==(const Parameter&, const Parameter&) = default;
};

// The tensors a node owns, in table order: conv2d and dense a weight and a bias (the
// weight alone with no_bias); prelu a weight; batch_norm a weight and a bias, then
// three buffers; recurrent layers their four, attention_lstm then its keys' weight.
struct OwnedTensors {
  std::array<ParameterRole, 5> roles{};
  int count = 0;
};
constexpr OwnedTensors owned_tensors(const Node& node) {
  using R = ParameterRole;
  switch (node.op) {
    case Op::conv2d:
    case Op::conv_transpose2d:
    case Op::dense: return {{R::weight, R::bias}, node.bias ? 2 : 1};
    case Op::prelu:
    case Op::embedding: return {{R::weight}, 1};
    case Op::rnn:
    case Op::lstm:
    case Op::gru: return {{R::weight_ih, R::weight_hh, R::bias_ih, R::bias_hh}, 4};
    case Op::attention_lstm:
      return {{R::weight_ih, R::weight_hh, R::bias_ih, R::bias_hh, R::key_weight}, 5};
    case Op::batch_norm:
      return {{R::weight, R::bias, R::running_mean, R::running_var, R::batches_tracked}, 5};
    default: return {};
  }
}
constexpr int parameter_tensors(const Node& node) { return owned_tensors(node).count; }
// Table capacity for a model of n nodes.
constexpr std::size_t parameter_slots(int n) { return std::size_t(5 * n); }

namespace detail {
// sqrt(x) for x >= 1 by Newton's method, in constant expressions.
constexpr double square_root(double x) {
  double r = x;
  for (int k = 0; k < 64; ++k) r = 0.5 * (r + x / r);
  return r;
}
}  // namespace detail

// Tensor t of `node` (index i), whose input has per-sample shape `in`.
constexpr Parameter describe_parameter(const Node& node, int i, Shape in, int t,
                                       long long offset) {
  Parameter p;
  p.node = i;
  p.offset = offset;
  p.role = owned_tensors(node).roles[t];
  p.name = join(node.name, ".", role_name(p.role));
  const int channels = in.is_image() ? in.channels() : in[0];
  p.init = p.role == ParameterRole::weight ? node.init : Init::zeros;
  if (is_recurrent(node.op)) {  // every tensor U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's
    // attention_lstm's input weights also read the context (node.context features).
    const int rows = gate_count(node.op) * node.units, f = in[1] + node.context;
    const bool ih = p.role == ParameterRole::weight_ih, weight = ih || p.role == ParameterRole::weight_hh;
    p.shape = weight ? shape(rows, ih ? f : node.units) : shape(rows);
    if (p.role == ParameterRole::key_weight) p.shape = shape(node.units, node.context);
    p.fan_in = weight || p.role == ParameterRole::key_weight ? p.shape[1] : 1;
    p.fan_out = p.shape[0];
    p.init = node.init;
    p.init_value = float(1.0 / detail::square_root(node.units));
    return p;
  }
  if (node.op == Op::embedding) {  // [V, D]
    p.shape = shape(node.vocabulary, node.units);
    p.fan_in = 1;
    p.fan_out = node.units;
    return p;
  }
  if (node.op == Op::conv2d) {  // [O, C / groups, KH, KW], stored as Parameter::storage says
    const int c = in.channels() / node.groups, kh = node.kernel_h, kw = node.kernel_w;
    p.shape = t == 0 ? shape(node.units, c, kh, kw) : shape(node.units);
    p.fan_in = c * kh * kw;
    p.fan_out = node.units * kh * kw;
    if (t == 0) {
      p.storage = {2, 3, 1, 0};
      if (node.units > 16 && node.units % 16 == 0) p.block = 16;
    }
  } else if (node.op == Op::conv_transpose2d) {  // [C, O, KH, KW], stored [KH][KW][C][O]
    const int c = in.channels(), kh = node.kernel_h, kw = node.kernel_w;
    p.shape = t == 0 ? shape(c, node.units, kh, kw) : shape(node.units);
    // Each output sums about C KH KW / (sh sw) products (exactly that when the stride
    // divides the kernel): the fan-in He's rule wants.
    p.fan_in = c * kh * kw / (node.stride_h * node.stride_w);
    if (p.fan_in < 1) p.fan_in = 1;
    p.fan_out = node.units * kh * kw;
    if (t == 0) p.storage = {2, 3, 0, 1};
  } else if (node.op == Op::prelu) {  // one slope per channel, or per feature of a flat input
    p.shape = shape(channels);
    p.fan_in = p.fan_out = 1;  // each slope scales one value
  } else if (node.op == Op::batch_norm) {  // PyTorch's initial values: weight 1, running_var 1
    p.shape = p.role == ParameterRole::batches_tracked ? Shape{} : shape(channels);
    p.fan_in = p.fan_out = 1;
    if (p.role == ParameterRole::running_var || p.role == ParameterRole::weight) {
      p.init = Init::constant;
      p.init_value = 1.0f;
    }
    return p;
  } else {  // dense: on a flat input, or at every step of a sequence (T, F)
    const int f = in.is_sequence() ? in[1] : in[0];
    p.shape = t == 0 ? shape(node.units, f) : shape(node.units);
    p.fan_in = f;
    p.fan_out = node.units;
  }
  if (p.init == Init::constant) p.init_value = node.alpha;
  return p;
}

// Between PyTorch's row-major order and the flat buffer's storage order.
template <class T, class U>
constexpr void scatter_to_storage(const Parameter& p, const T* pytorch_order, U* flat) {
  for (long long e = 0; e < p.size(); ++e) flat[p.flat_index(e)] = U(pytorch_order[e]);
}
template <class T, class U>
constexpr void gather_from_storage(const Parameter& p, const T* flat, U* pytorch_order) {
  for (long long e = 0; e < p.size(); ++e) pytorch_order[e] = U(flat[p.flat_index(e)]);
}

}  // namespace kiln
