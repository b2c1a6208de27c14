// kiln::model(...): a whole network as one constexpr value.
//
//   inline constexpr auto lenet5 = kiln::checked<kiln::model("lenet5",
//       input(1, 28, 28), conv2d(6, 5, pad(2)), relu, max_pool(2), ...)>;
//
// model() flattens its parts into a topologically ordered node array, names the
// layers (conv1, conv2, fc1, ... as PyTorch twins do), infers every shape and records
// the first shape error. checked<> turns that error into a compile error whose first
// line names the problem, the layer index, its name and the shapes involved
// (errors.hpp).
#pragma once
#include "dsl/blocks.hpp"
#include "dsl/errors.hpp"
#include "dsl/parameters.hpp"

namespace kiln {

template <int N>
struct Model {
  Label name{};
  std::array<Node, N> nodes{};
  ShapeError error{};

  static constexpr int size() { return N; }
  constexpr const Node& operator[](int i) const { return nodes[i]; }
  constexpr Shape input_shape() const { return nodes[0].shape; }

  // The loss node, or -1 for a model without one.
  constexpr int loss_node() const {
    for (int i = 0; i < N; ++i)
      if (is_loss(nodes[i].op)) return i;
    return -1;
  }
  // The node whose value forward() returns: the join of heads(...), what the loss
  // reads, or the last node.
  constexpr int output_node() const {
    const int loss = loss_node();
    if (nodes[N - 1].op == Op::heads || loss < 0) return N - 1;
    return nodes[loss].inputs[0];
  }
  constexpr Shape output_shape() const { return nodes[output_node()].shape; }
  // The regions per image that the model's region layers read (one list for all of
  // them, given with the batch as [N, R, 4]); 0 without region layers.
  constexpr int region_count() const {
    const SideInput side = side_input();
    return side.kind == SideKind::regions ? side.rows : 0;
  }
  // What the batch carries beside the input (layers.hpp): rois, words, or nothing.
  constexpr SideInput side_input() const { return side_input_of(nodes); }
  // Floats of recurrent state per sample carried between windows (layers.hpp); 0 without.
  constexpr int carried_state() const { return carried_state_of(nodes); }
  // Whether the loss is a target_loss (float targets, not int32 labels).
  constexpr bool uses_targets() const {
    const int loss = loss_node();
    return loss >= 0 && nodes[loss].op == Op::target_loss;
  }

  // Learned tensors (weights, biases) and buffers (running statistics), counted apart.
  constexpr int parameter_tensor_count() const { return tensor_count(false); }
  constexpr int buffer_tensor_count() const { return tensor_count(true); }
  // Floats in the flat parameter buffer (what torchvision's parameter counts count) and
  // in the flat buffer of buffers.
  constexpr long long parameter_count() const { return float_count(false); }
  constexpr long long buffer_count() const { return float_count(true); }

  // Every tensor: PyTorch name, PyTorch shape, offset into its flat buffer. The learned
  // tensors come first, in node order, then the buffers, in node order.
  constexpr std::array<Parameter, parameter_slots(N)> parameter_table() const {
    std::array<Parameter, parameter_slots(N)> table{};
    int k = 0;
    // A model with a shape error has no parameters: its sizes may be meaningless.
    for (bool buffers : {false, true}) {
      long long offset = 0;
      for (int i = 0; i < N && error.problem == Problem::none; ++i) {
        const Node& node = nodes[i];
        const Shape in = node.inputs[0] >= 0 ? nodes[node.inputs[0]].shape : Shape{};
        for (int t = 0; t < parameter_tensors(node); ++t) {
          const Parameter p = describe_parameter(node, i, in, t, offset);
          if (is_buffer(p.role) != buffers) continue;
          table[k++] = p;
          offset += p.size();
        }
      }
    }
    for (; k < int(table.size()); ++k) table[k].node = -1;
    return table;
  }

 private:
  constexpr int tensor_count(bool buffers) const {
    int n = 0;
    for (const Parameter& p : parameter_table()) n += p.node >= 0 && is_buffer(p.role) == buffers;
    return n;
  }
  constexpr long long float_count(bool buffers) const {
    long long n = 0;
    for (const Parameter& p : parameter_table())
      if (is_buffer(p.role) == buffers) n += p.size();
    return n;
  }
};

namespace detail {

template <int N>
constexpr void name_layers(Model<N>& m) {
  std::array<int, 64> seen{};  // per Op: how many were named so far
  for (Node& n : m.nodes) {
    int& k = seen[static_cast<int>(n.op)];
    ++k;
    if (n.name.empty() && n.op != Op::input) n.name = Label(default_stem(n.op)).append(k);
    // The first layer is the input; a later input node holds a decoder's words.
    if (n.op == Op::input && &n == &m.nodes[0]) n.name = Label("input");
    else if (n.op == Op::input && n.name.empty()) n.name = Label("words");
  }
}

}  // namespace detail

template <class... Parts>
constexpr Model<count_nodes<Parts...>> model(Label name, const Parts&... parts) {
  Model<count_nodes<Parts...>> m;
  m.name = name;
  int at = 0, tail = no_input;
  ((tail = detail::place(m.nodes, at, parts, tail)), ...);
  detail::name_layers(m);
  m.error = infer_shapes(m.nodes);
  return m;
}

// The model M, once its shapes are known to be right; otherwise a compile error that
// names the layer and the shapes (see errors.hpp).
template <auto M>
inline constexpr auto checked = (report<M.error>(), M);

}  // namespace kiln
