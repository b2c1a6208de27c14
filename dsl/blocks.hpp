// Composition: sequences, residual blocks, branches with concatenation, repetition.
//
// A block is a small graph whose nodes refer to each other by index within the block,
// and to "the value that enters the block" as block_entry. model() (model.hpp) places
// blocks into one flat, topologically ordered node array.
#pragma once
#include "dsl/layers.hpp"

namespace kiln {

template <int K>
struct Block {
  std::array<Node, K> nodes{};
};

template <class T> struct node_count;
template <> struct node_count<Node> { static constexpr int value = 1; };
template <int K> struct node_count<Block<K>> { static constexpr int value = K; };
template <class... Parts>
inline constexpr int count_nodes = (0 + ... + node_count<Parts>::value);

namespace detail {

// Copies one part into `out` starting at `at`, wiring it to `entry` (an index in `out`,
// or block_entry). Returns the index of the part's last node: its output.
template <std::size_t Cap>
constexpr int place(std::array<Node, Cap>& out, int& at, const Node& n, int entry) {
  Node c = n;
  if (c.input_count() == 0 && c.op != Op::input) c.inputs[0] = entry;
  out[at] = c;
  return at++;
}
template <std::size_t Cap, int K>
constexpr int place(std::array<Node, Cap>& out, int& at, const Block<K>& b, int entry) {
  const int base = at;
  for (const Node& n : b.nodes) {
    Node c = n;
    for (int& in : c.inputs) {
      if (in == block_entry) in = entry;
      else if (in >= 0) in += base;
    }
    out[at++] = c;
  }
  return at - 1;
}

}  // namespace detail

// sequence(a, b, c): a chain, written once and used as one part.
template <class... Parts>
constexpr Block<count_nodes<Parts...>> sequence(const Parts&... parts) {
  Block<count_nodes<Parts...>> b;
  int at = 0, tail = block_entry;
  ((tail = detail::place(b.nodes, at, parts, tail)), ...);
  return b;
}

// identity: the shortcut of a residual block that passes its input unchanged.
struct Identity {};
inline constexpr Identity identity{};

// residual(body, shortcut): body(x) + shortcut(x). The shortcut is `identity` or a
// projection (e.g. sequence(conv2d(256, 1, stride(2)), ...)).
template <class Body>
constexpr Block<node_count<Body>::value + 1> residual(const Body& body, Identity = identity) {
  Block<node_count<Body>::value + 1> b;
  int at = 0;
  const int body_out = detail::place(b.nodes, at, body, block_entry);
  b.nodes[at] = Node{.op = Op::add, .inputs = {body_out, block_entry, no_input, no_input}};
  return b;
}
template <class Body, class Shortcut>
constexpr Block<node_count<Body>::value + node_count<Shortcut>::value + 1> residual(
    const Body& body, const Shortcut& shortcut) {
  Block<node_count<Body>::value + node_count<Shortcut>::value + 1> b;
  int at = 0;
  const int body_out = detail::place(b.nodes, at, body, block_entry);
  const int short_out = detail::place(b.nodes, at, shortcut, block_entry);
  b.nodes[at] = Node{.op = Op::add, .inputs = {body_out, short_out, no_input, no_input}};
  return b;
}

// concat(branch...): every branch reads the same input; outputs are joined along
// channels, in order (GoogLeNet-style modules, U-Net skips).
template <class... Branches>
constexpr Block<count_nodes<Branches...> + 1> concat(const Branches&... branches) {
  static_assert(sizeof...(Branches) >= 2 && sizeof...(Branches) <= max_inputs,
                "concat: give 2 to 4 branches");
  Block<count_nodes<Branches...> + 1> b;
  int at = 0, k = 0;
  Node join{.op = Op::concat};
  ((join.inputs[k++] = detail::place(b.nodes, at, branches, block_entry)), ...);
  b.nodes[at] = join;
  return b;
}

// repeat<N>(part): the part N times in a chain (a stage of identical blocks).
template <int N, class Part>
constexpr Block<N * node_count<Part>::value> repeat(const Part& part) {
  static_assert(N >= 1, "repeat: N must be at least 1");
  Block<N * node_count<Part>::value> b;
  int at = 0, tail = block_entry;
  for (int i = 0; i < N; ++i) tail = detail::place(b.nodes, at, part, tail);
  return b;
}

}  // namespace kiln
