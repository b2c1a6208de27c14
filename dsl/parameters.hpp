// The parameter table: every learned tensor's PyTorch name, PyTorch shape, initializer
// and offset in the model's one flat float buffer. Gradients and optimizer state use
// the same offsets.
#pragma once
#include "dsl/layers.hpp"

namespace kiln {

enum class ParameterRole : unsigned char { weight, bias };

struct Parameter {
  Label name{};        // "conv1.weight"
  Shape shape{};       // PyTorch order: conv OIHW, dense [out, in], bias [out], prelu [C]
  long long offset = 0;  // in floats, into the flat buffer
  ParameterRole role = ParameterRole::weight;
  Init init = Init::zeros;
  float init_value = 0.0f;  // Init::constant: every element's starting value
  int node = -1;       // index of the node that owns it; -1 marks an unused table slot
  int fan_in = 0, fan_out = 0;
  // Memory order in the flat buffer: storage[k] is the PyTorch dim stored k-th outermost.
  // Conv weights [O, C, KH, KW] are stored [KH][KW][C][O], output channels innermost,
  // so that schedules vectorize over output channels with no re-layout per call. Files
  // always hold PyTorch's order; the runtime permutes at load and save (below).
  std::array<int, 4> storage{0, 1, 2, 3};

  constexpr long long size() const { return node < 0 ? 0 : shape.elements(); }
  // Distance in the flat buffer between neighbours along PyTorch dim k.
  constexpr long long stride(int k) const {
    long long s = 1;
    for (int j = shape.rank - 1; j >= 0 && storage[j] != k; --j) s *= shape[storage[j]];
    return s;
  }
  // Where element e of the tensor in PyTorch's row-major order lives in the flat buffer.
  constexpr long long flat_index(long long e) const {
    long long at = offset;
    for (int k = shape.rank - 1; k >= 0; --k) {
      at += (e % shape[k]) * stride(k);
      e /= shape[k];
    }
    return at;
  }
  friend constexpr bool operator==(const Parameter&, const Parameter&) = default;
};

// How many parameter tensors a node owns: weight and bias (weight alone with no_bias),
// or prelu's weight alone.
constexpr int parameter_tensors(const Node& node) {
  if (node.op == Op::conv2d || node.op == Op::dense) return node.bias ? 2 : 1;
  return node.op == Op::prelu ? 1 : 0;
}
// Table capacity for a model of n nodes.
constexpr std::size_t parameter_slots(int n) { return std::size_t(2 * n); }

// Parameter t of `node` (index i), whose input has per-sample shape `in`.
constexpr Parameter describe_parameter(const Node& node, int i, Shape in, int t,
                                       long long offset) {
  Parameter p;
  p.node = i;
  p.offset = offset;
  p.role = t == 0 ? ParameterRole::weight : ParameterRole::bias;
  p.name = join(node.name, ".", t == 0 ? "weight" : "bias");
  if (node.op == Op::conv2d) {  // [O, C / groups, KH, KW], stored [KH][KW][C / groups][O]
    const int c = in.channels() / node.groups, kh = node.kernel_h, kw = node.kernel_w;
    p.shape = t == 0 ? shape(node.units, c, kh, kw) : shape(node.units);
    p.fan_in = c * kh * kw;
    p.fan_out = node.units * kh * kw;
    if (t == 0) p.storage = {2, 3, 1, 0};
  } else if (node.op == Op::prelu) {  // one slope per channel, or per feature of a flat input
    p.shape = shape(in.is_image() ? in.channels() : in[0]);
    p.fan_in = p.fan_out = 1;  // each slope scales one value
  } else {  // dense
    const int f = in[0];
    p.shape = t == 0 ? shape(node.units, f) : shape(node.units);
    p.fan_in = f;
    p.fan_out = node.units;
  }
  p.init = t == 0 ? node.init : Init::zeros;
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
