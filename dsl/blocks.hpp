// Composition: sequences, residual blocks, branches with concatenation, repetition.
//
// A block is a small graph whose nodes refer to each other by index within the block,
// and to "the value that enters the block" as block_entry. model() (model.hpp) places
// blocks into one flat, topologically ordered node array.
#pragma once
#include "dsl/layers.hpp"

namespace kiln {

// identity: the shortcut of a residual block that passes its input unchanged, or a
// concat branch that does (a U-Net skip: concat(identity, sequence(down, ..., up))).
struct Identity {};
inline constexpr Identity identity{};

template <int K>
struct Block {
  std::array<Node, K> nodes{};
  int copies = 1;  // repeat<N>: N copies of K / N nodes, numbered one by one in sequential()

  // Prefixes the name of every named node: "conv1" -> "layer1.0.conv1". Unnamed nodes
  // keep default names (relu3, add2, ...).
  constexpr Block named(Label prefix) const {
    Block b = *this;
    for (Node& n : b.nodes)
      if (!n.name.empty()) n.name = join(prefix, ".", n.name.view());
    return b;
  }
};

template <class T> struct node_count;
template <> struct node_count<Node> { static constexpr int value = 1; };
template <> struct node_count<Identity> { static constexpr int value = 0; };
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
// identity (below) adds no node: its value is the entry itself.
template <std::size_t Cap>
constexpr int place(std::array<Node, Cap>&, int&, const Identity&, int entry) { return entry; }
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

namespace detail {
// Names part `index` of sequential(prefix, ...): a layer is "prefix.index" (or
// "prefix.name" when named, as an nn.Sequential built from an OrderedDict); the named
// layers of a block become "prefix.index.name", one index per copy of a repeat.
template <std::size_t Cap>
constexpr void number(std::array<Node, Cap>& nodes, int first, const Node&, Label prefix, int& index) {
  Node& n = nodes[first];
  n.name = n.name.empty() ? Label(prefix).append(".").append(index) : join(prefix, ".", n.name.view());
  ++index;
}
template <std::size_t Cap, int K>
constexpr void number(std::array<Node, Cap>& nodes, int first, const Block<K>& b, Label prefix, int& index) {
  const int per_copy = K / b.copies;
  for (int copy = 0; copy < b.copies; ++copy, ++index) {
    const Label stem = Label(prefix).append(".").append(index);
    for (int k = first + copy * per_copy; k < first + (copy + 1) * per_copy; ++k)
      if (!nodes[k].name.empty()) nodes[k].name = join(stem, ".", nodes[k].name.view());
  }
}
}  // namespace detail

// sequential("features", conv2d(64, 11, stride(4), pad(2)), relu, max_pool(3, stride(2)), ...):
// a chain named as PyTorch names an nn.Sequential's children, by position: the conv is
// "features.0" (its parameters features.0.weight, features.0.bias), the relu
// "features.1". A block part's named layers are numbered as one child each:
// sequential("layer1", basic_block, basic_block) names "layer1.0.conv1", "layer1.1.conv1".
template <class... Parts>
constexpr Block<count_nodes<Parts...>> sequential(Label prefix, const Parts&... parts) {
  Block<count_nodes<Parts...>> b;
  int at = 0, tail = block_entry, index = 0;
  ((tail = detail::place(b.nodes, at, parts, tail),
    detail::number(b.nodes, tail - node_count<Parts>::value + 1, parts, prefix, index)), ...);
  return b;
}

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
// channels, in order (GoogLeNet-style modules; U-Net skips, one branch `identity`).
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

// heads(branch...): several heads on the same features, each branch ending in its own
// target_loss (a detector's proposal and detection heads; a class head beside a mask
// head). The model's output is every head's output flattened and joined in branch order,
// (F1 + F2 + ...); its targets are [N, 2, F1 + F2 + ...] in the same order (each head's
// part as that head's target_loss reads it); its loss is the sum of the heads' losses.
// It ends the model.
template <class... Branches>
constexpr Block<count_nodes<Branches...> + 1> heads(const Branches&... branches) {
  static_assert(sizeof...(Branches) >= 2 && sizeof...(Branches) <= max_inputs,
                "heads: give 2 to 4 branches");
  Block<count_nodes<Branches...> + 1> b;
  int at = 0, k = 0;
  Node join{.op = Op::heads};
  // Each branch's last node is its loss; the join reads what the loss reads.
  ((join.inputs[k++] = detail::place(b.nodes, at, branches, block_entry)), ...);
  for (int& in : join.inputs)
    if (in >= 0) in = b.nodes[in].inputs[0];
  b.nodes[at] = join;
  return b;
}

// spatial_transformer(localization, H, W) (Jaderberg et al. 2015): the localization
// branch reads the block's input, an image (C, H_in, W_in), and gives 6 numbers per
// sample, the offsets of an affine map from the identity (end it with
// dense(6).initialized(Init::zeros), so that training starts from the identity); the
// input is then sampled on that map's grid into (C, H, W) (affine_sample, layers.hpp).
// spatial_transformer(localization) keeps the input's size. PyTorch twin: theta =
// identity + loc(x).view(-1, 2, 3), F.grid_sample(x, F.affine_grid(theta, size)).
template <class Localization>
constexpr Block<node_count<Localization>::value + 1> spatial_transformer(const Localization& localization,
                                                                         int height = 0, int width = 0) {
  Block<node_count<Localization>::value + 1> b;
  int at = 0;
  const int offsets = detail::place(b.nodes, at, localization, block_entry);
  Node sampler = affine_sample(height, width);
  sampler.inputs = {block_entry, offsets, no_input, no_input};
  b.nodes[at] = sampler;
  return b;
}

// decoder(tokens(T, V), parts...): a sequence branch with an input of its own, a
// captioner's words so far (given with every batch beside the images, as "words" [N, T]
// token ids), read by `parts` in a chain; its attention_lstm also reads the block's
// input, the feature grid it attends over. The block's output is its last part's.
//   decoder(tokens(12, 20), embedding(32), attention_lstm(128)), dense(20), softmax_cross_entropy
template <class... Parts>
constexpr Block<1 + count_nodes<Parts...>> decoder(const Node& words, const Parts&... parts) {
  Block<1 + count_nodes<Parts...>> b;
  b.nodes[0] = words;
  int at = 1, tail = 0;
  ((tail = detail::place(b.nodes, at, parts, tail)), ...);
  for (Node& n : b.nodes)
    if (n.op == Op::attention_lstm && n.inputs[1] == no_input) n.inputs[1] = block_entry;
  return b;
}

// repeat<N>(part): the part N times in a chain (a stage of identical blocks).
template <int N, class Part>
constexpr Block<N * node_count<Part>::value> repeat(const Part& part) {
  static_assert(N >= 1, "repeat: N must be at least 1");
  Block<N * node_count<Part>::value> b;
  int at = 0, tail = block_entry;
  for (int i = 0; i < N; ++i) tail = detail::place(b.nodes, at, part, tail);
  b.copies = N;
  return b;
}

}  // namespace kiln
