// Layer descriptors: what a user writes inside kiln::model(...).
//
// Every layer is a Node value. Nodes are wired into a graph by model(): a plain layer
// reads the node before it; blocks (blocks.hpp) wire residual, concatenation and other
// non-chain shapes. Shapes are filled in by shape inference (errors.hpp).
#pragma once
#include "dsl/shape.hpp"

#include <type_traits>

namespace kiln {

enum class Op : unsigned char {
  input,
  conv2d,
  max_pool,
  avg_pool,
  dense,
  flatten,
  relu,
  sigmoid,
  tanh,
  leaky_relu,  // out = x > 0 ? x : alpha x (alpha: the negative slope)
  elu,         // out = x > 0 ? x : alpha (e^x - 1)
  prelu,       // leaky_relu with a learned slope per channel (parameter "<name>.weight")
  global_avg_pool,  // (C, H, W) -> (C): the mean over H x W of each channel
  batch_norm,  // per-channel normalization by batch statistics (training) or running ones
  dropout,     // inverted dropout: zero with probability p in training, identity in inference
  normalize,   // fixed per-channel (x - mean) / std of inputs, e.g. ImageNet's statistics
  maxout,  // (C, H, W) -> (C/k, H, W), (F) -> (F/k): the max of k consecutive channels
  add,     // elementwise sum of two nodes of the same shape (residual connections)
  concat,  // channel concatenation of image nodes with the same H and W
  // Learnable and fixed upsampling of images (FCN decoders), generators/ops/upsample.cpp.
  conv_transpose2d,  // nn.ConvTranspose2d: the adjoint of a strided conv2d, overlaps summed
  upsample_bilinear,  // nn.Upsample(scale_factor=s, mode="bilinear"), align_corners=False
  // Sequences (T, F), recurrent.hpp in generators/ops: token ids -> vectors, per step.
  embedding,  // (T, 1) token ids -> (T, D): row id of a learned [V, D] table (nn.Embedding)
  one_hot,    // (T, 1) token ids -> (T, V): 1 at the id, 0 elsewhere
  // Recurrent layers over a sequence (T, F) -> (T, H), or (H) with last_step; one cell
  // applied at every step with shared parameters, zero initial state (nn.RNN, nn.LSTM,
  // nn.GRU with batch_first, one layer each; stack nodes for more layers).
  rnn,   // h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
  lstm,  // gates i, f, g, o; c' = f c + i g; h' = o tanh(c')
  gru,   // gates r, z, n; h' = (1 - z) n + z h
  softmax_cross_entropy,
  // Elementwise losses against float targets given with the batch (detectors' heads):
  // each channel has its LossKind, and every element its target value and weight.
  target_loss,
  // Regions of a run-time list warped to a fixed size (a two-stage detector's second
  // stage): (C, H, W) -> (R, C P P), one row per region; bilinear samples averaged
  // (roi_align) or the maximum of each bin's pixels (roi_pool, Fast R-CNN's).
  roi_align,
  roi_pool,
  // The join of heads(...) (blocks.hpp): every head's output flattened, in order, as the
  // model's output. Always the last node.
  heads,
  // A spatial transformer's sampler (blocks.hpp: spatial_transformer): an image (C, H, W)
  // and 6 numbers per sample, the affine map's offsets from the identity, -> (C, H', W'),
  // the image sampled bilinearly on that map's grid (generators/ops/spatial.cpp).
  affine_sample,
  // (C, H, W) -> (C + 2, H, W): the image with two channels of its pixels' coordinates
  // appended (CoordConv), so that what a location holds says where it is.
  coordinates,
  // An LSTM whose every step attends over a feature grid (Show, Attend and Tell): inputs
  // a sequence (T, E) and an image (C, h, w) of L = h w locations; out (T, H + C), each
  // step's h and the context it read (blocks.hpp: decoder; generators/ops/attention.cpp).
  attention_lstm,
};

constexpr std::string_view op_name(Op op) {
  switch (op) {
    case Op::input: return "input";
    case Op::conv2d: return "conv2d";
    case Op::max_pool: return "max_pool";
    case Op::avg_pool: return "avg_pool";
    case Op::dense: return "dense";
    case Op::flatten: return "flatten";
    case Op::relu: return "relu";
    case Op::sigmoid: return "sigmoid";
    case Op::tanh: return "tanh";
    case Op::leaky_relu: return "leaky_relu";
    case Op::elu: return "elu";
    case Op::prelu: return "prelu";
    case Op::global_avg_pool: return "global_avg_pool";
    case Op::batch_norm: return "batch_norm";
    case Op::dropout: return "dropout";
    case Op::normalize: return "normalize";
    case Op::maxout: return "maxout";
    case Op::add: return "add";
    case Op::concat: return "concat";
    case Op::conv_transpose2d: return "conv_transpose2d";
    case Op::upsample_bilinear: return "upsample_bilinear";
    case Op::embedding: return "embedding";
    case Op::one_hot: return "one_hot";
    case Op::rnn: return "rnn";
    case Op::lstm: return "lstm";
    case Op::gru: return "gru";
    case Op::softmax_cross_entropy: return "softmax_cross_entropy";
    case Op::target_loss: return "target_loss";
    case Op::roi_align: return "roi_align";
    case Op::roi_pool: return "roi_pool";
    case Op::heads: return "heads";
    case Op::affine_sample: return "affine_sample";
    case Op::attention_lstm: return "attention_lstm";
    case Op::coordinates: return "coordinates";
  }
  return "?";
}

// The default name stem of a layer with parameters, PyTorch style: conv1, fc1, ...
constexpr std::string_view default_stem(Op op) {
  switch (op) {
    case Op::conv2d: return "conv";
    case Op::conv_transpose2d: return "deconv";
    case Op::upsample_bilinear: return "upsample";
    case Op::dense: return "fc";
    case Op::batch_norm: return "bn";
    case Op::affine_sample: return "transformer";
    default: return op_name(op);
  }
}

constexpr bool is_loss(Op op) { return op == Op::softmax_cross_entropy || op == Op::target_loss; }
// Layers with a time loop (a host extern stage: CPU targets only).
constexpr bool is_recurrent(Op op) {
  return op == Op::rnn || op == Op::lstm || op == Op::gru || op == Op::attention_lstm;
}
// A recurrent cell's gate blocks of H rows in its weights: PyTorch's 1, 4 (i, f, g, o)
// and 3 (r, z, n).
constexpr int gate_count(Op op) { return op == Op::lstm || op == Op::attention_lstm ? 4 : op == Op::gru ? 3 : 1; }

// How a weight tensor starts. Biases always start at zero.
enum class Init : unsigned char {
  he,        // normal, std sqrt(2 / fan_in): for layers followed by ReLU
  xavier,    // normal, std sqrt(2 / (fan_in + fan_out))
  zeros,
  constant,  // every element Parameter::init_value (prelu's slopes: Node::alpha)
  normal,    // standard normal (nn.Embedding)
  uniform_hidden,  // U(-1/sqrt(H), 1/sqrt(H)), H the hidden size: every tensor of nn.RNN/LSTM/GRU
};

// target_loss: how one channel's outputs x are compared with their targets t.
enum class LossKind : unsigned char {
  squared,    // (x - t)^2, as nn.MSELoss
  smooth_l1,  // |x - t| < b ? (x - t)^2 / (2 b) : |x - t| - b / 2, as nn.SmoothL1Loss(beta=b)
  logistic,   // binary cross-entropy of sigmoid(x) with t in [0, 1], as nn.BCEWithLogitsLoss
};
inline constexpr int max_loss_kinds = 16;

inline constexpr int no_input = -1;
// Inside a block (blocks.hpp): "the value that enters the block".
inline constexpr int block_entry = -2;
inline constexpr int max_inputs = 4;

struct Node {
  Op op = Op::input;
  Label name{};
  // Producers, as node indices; no_input where unused. A plain layer leaves them all
  // unused and model() wires it to the node before it.
  std::array<int, max_inputs> inputs{no_input, no_input, no_input, no_input};
  // conv2d, conv_transpose2d: output channels; dense: output features; embedding: vector size; rnn, lstm,
  // gru: hidden size.
  int units = 0;
  // tokens input: ids are in [0, vocabulary); embedding and one_hot copy it from there.
  int vocabulary = 0;
  // attention_lstm: the channels C of the feature grid it attends over (shape inference
  // fills it in; its input weights cover the embedding and the C-channel context).
  int context = 0;
  // rnn, lstm, gru: output only the last step's hidden state (many-to-one).
  bool last_step = false;
  // softmax_cross_entropy: over the classes of every pixel of (K, H, W) logits.
  bool per_pixel = false;
  // target_loss: channel c (feature c of flat outputs) is compared by
  // loss_kinds[c % kind_count]; smooth_l1's b is alpha.
  std::array<LossKind, max_loss_kinds> loss_kinds{};
  int kind_count = 0;
  // affine_sample: the output's height and width (0: the input's).
  int kernel_h = 0, kernel_w = 0;
  // upsample_bilinear: the scale factor.
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  // conv2d: spacing of the kernel's taps (PyTorch's dilation); 1 is a plain kernel.
  int dilation_h = 1, dilation_w = 1;
  // conv2d: channel groups (output channel co reads only input channels of group
  // co / (O / groups)); maxout: the k inputs each output is the maximum of.
  int groups = 1;
  // conv2d, conv_transpose2d, dense: whether the layer owns "<name>.bias" (PyTorch's bias=True).
  bool bias = true;
  Init init = Init::he;
  // leaky_relu: the negative slope; elu: alpha; prelu: the slopes' initial value;
  // dropout: the probability of zeroing an element.
  float alpha = 0.0f;
  // batch_norm: epsilon added to the variance, and the running statistics' momentum.
  float epsilon = 1e-5f, momentum = 0.1f;
  // normalize: per-channel mean and standard deviation (one value: every channel).
  std::array<float, 4> channel_mean{}, channel_std{};
  int channel_values = 0;
  // Filled in by shape inference: the per-sample output shape.
  Shape shape{};

  constexpr int input_count() const {
    int n = 0;
    while (n < max_inputs && inputs[n] != no_input) ++n;
    return n;
  }
  // Chainable tweaks: conv2d(64, 3).named("conv1").initialized(Init::xavier)
  constexpr Node named(Label n) const { Node c = *this; c.name = n; return c; }
  constexpr Node initialized(Init i) const { Node c = *this; c.init = i; return c; }
  friend constexpr bool operator==(const Node&, const Node&) = default;
};

// Options for conv2d and pooling, written pad(2), stride(2), pad(0, 1); conv2d also
// takes dilation(2), dilation(2, 1), groups(4) and no_bias; dense takes no_bias.
struct Pad { int h = 0, w = 0; };
struct Stride { int h = 1, w = 1; };
struct Dilation { int h = 1, w = 1; };
struct Groups { int count = 1; };
struct NoBias {};
constexpr Pad pad(int p) { return {p, p}; }
constexpr Pad pad(int h, int w) { return {h, w}; }
constexpr Stride stride(int s) { return {s, s}; }
constexpr Stride stride(int h, int w) { return {h, w}; }
constexpr Dilation dilation(int d) { return {d, d}; }
constexpr Dilation dilation(int h, int w) { return {h, w}; }
constexpr Groups groups(int g) { return {g}; }
inline constexpr NoBias no_bias{};

namespace detail {
constexpr void apply(Node& n, Pad p) { n.pad_h = p.h; n.pad_w = p.w; }
constexpr void apply(Node& n, Stride s) { n.stride_h = s.h; n.stride_w = s.w; }
constexpr void apply(Node& n, Dilation d) { n.dilation_h = d.h; n.dilation_w = d.w; }
constexpr void apply(Node& n, Groups g) { n.groups = g.count; }
constexpr void apply(Node& n, NoBias) { n.bias = false; }
constexpr void apply(Node& n, Init i) { n.init = i; }
template <class Option, class... Allowed>
inline constexpr bool one_of = (std::is_same_v<Option, Allowed> || ...);
}  // namespace detail

// input(C, H, W) for images, input(F) for feature vectors.
constexpr Node input(int c, int h, int w) { return Node{.op = Op::input, .shape = shape(c, h, w)}; }
constexpr Node input(int f) { return Node{.op = Op::input, .shape = shape(f)}; }
// input_sequence(T, F): T steps of F features each.
constexpr Node input_sequence(int length, int features) {
  return Node{.op = Op::input, .shape = shape(length, features)};
}
// tokens(T, V): a sequence of T token ids in [0, V), per sample a (T, 1) tensor of ids
// stored as floats (exact below 2^24). Read by embedding(D) or one_hot.
constexpr Node tokens(int length, int vocabulary) {
  return Node{.op = Op::input, .vocabulary = vocabulary, .shape = shape(length, 1)};
}

// conv2d(out_channels, kernel, options...): kernel is k (square) or given as kernel(h, w).
struct Kernel { int h, w; };
constexpr Kernel kernel(int h, int w) { return {h, w}; }

template <class... Options>
constexpr Node conv2d(int out_channels, Kernel k, Options... options) {
  static_assert((detail::one_of<Options, Pad, Stride, Dilation, Groups, NoBias, Init> && ...),
                "conv2d: the options are pad, stride, dilation, groups, no_bias and an Init");
  Node n{.op = Op::conv2d, .units = out_channels, .kernel_h = k.h, .kernel_w = k.w};
  (detail::apply(n, options), ...);
  return n;
}
template <class... Options>
constexpr Node conv2d(int out_channels, int k, Options... options) {
  return conv2d(out_channels, Kernel{k, k}, options...);
}

// conv_transpose2d(out_channels, kernel, options...): nn.ConvTranspose2d(C, O, k, stride,
// padding) with groups 1, dilation 1 and no output_padding; options pad, stride, no_bias
// and an Init. (C, H, W) -> (O, (H - 1) s - 2 p + KH, (W - 1) s - 2 p + KW): stride 2,
// kernel 2 (or kernel 4, pad 1) doubles H and W. Weight [C, O, KH, KW] as PyTorch's.
template <class... Options>
constexpr Node conv_transpose2d(int out_channels, Kernel k, Options... options) {
  static_assert((detail::one_of<Options, Pad, Stride, NoBias, Init> && ...),
                "conv_transpose2d: the options are pad, stride, no_bias and an Init");
  Node n{.op = Op::conv_transpose2d, .units = out_channels, .kernel_h = k.h, .kernel_w = k.w};
  (detail::apply(n, options), ...);
  return n;
}
template <class... Options>
constexpr Node conv_transpose2d(int out_channels, int k, Options... options) {
  return conv_transpose2d(out_channels, Kernel{k, k}, options...);
}

// upsample_bilinear(s): (C, H, W) -> (C, s H, s W) by bilinear interpolation, as
// nn.Upsample(scale_factor=s, mode="bilinear") (align_corners=False: pixel centres line
// up, edges repeat). No parameters.
constexpr Node upsample_bilinear(int scale) {
  return Node{.op = Op::upsample_bilinear, .stride_h = scale, .stride_w = scale};
}

// max_pool(k) / avg_pool(k): window k, stride k unless given.
template <class... Options>
constexpr Node max_pool(int k, Options... options) {
  static_assert((detail::one_of<Options, Pad, Stride> && ...),
                "max_pool/avg_pool: the options are pad(...) and stride(...)");
  Node n{.op = Op::max_pool, .kernel_h = k, .kernel_w = k, .stride_h = k, .stride_w = k};
  (detail::apply(n, options), ...);
  return n;
}
template <class... Options>
constexpr Node avg_pool(int k, Options... options) {
  Node n = max_pool(k, options...);
  n.op = Op::avg_pool;
  return n;
}

template <class... Options>
constexpr Node dense(int units, Options... options) {
  static_assert((detail::one_of<Options, NoBias, Init> && ...),
                "dense: the options are no_bias and an Init");
  Node n{.op = Op::dense, .units = units};
  (detail::apply(n, options), ...);
  return n;
}

// embedding(D): nn.Embedding(V, D), "<name>.weight" [V, D], normal(0, 1) at the start
// as PyTorch's. one_hot: F.one_hot(ids, V) as floats.
constexpr Node embedding(int size) { return Node{.op = Op::embedding, .units = size, .init = Init::normal}; }
inline constexpr Node one_hot{.op = Op::one_hot};

// rnn(H), lstm(H), gru(H), or with last_step the last step's state only:
// lstm(256, last_step). Parameters as PyTorch's one-layer modules: weight_ih_l0
// [G H, F], weight_hh_l0 [G H, H], bias_ih_l0 and bias_hh_l0 [G H], G = gate_count.
struct LastStep {};
inline constexpr LastStep last_step{};
constexpr Node recurrent(Op op, int hidden, bool last) {
  return Node{.op = op, .units = hidden, .last_step = last, .init = Init::uniform_hidden};
}
constexpr Node rnn(int hidden) { return recurrent(Op::rnn, hidden, false); }
constexpr Node rnn(int hidden, LastStep) { return recurrent(Op::rnn, hidden, true); }
constexpr Node lstm(int hidden) { return recurrent(Op::lstm, hidden, false); }
constexpr Node lstm(int hidden, LastStep) { return recurrent(Op::lstm, hidden, true); }
constexpr Node gru(int hidden) { return recurrent(Op::gru, hidden, false); }
constexpr Node gru(int hidden, LastStep) { return recurrent(Op::gru, hidden, true); }
// attention_lstm(H): nn.LSTMCell(E + C, H) applied at every step t of a (T, E) sequence
// x with soft attention over the L = h w locations a_l (C features each) of an image
// (C, h, w), zero initial state (Xu et al. 2015's soft attention, with a bilinear score):
//   keys k_l = W_k a_l                            (H each; "<name>.key.weight" [H, C]; a
//                                                  bias would shift every score alike)
//   alpha_t = softmax_l(k_l . h_{t-1}),  z_t = sum_l alpha_t,l a_l   (the context, C)
//   h_t, c_t = LSTMCell([x_t; z_t], (h_{t-1}, c_{t-1}))   (weight_ih_l0 [4H, E + C], ...)
// out (T, H + C): [h_t; z_t] at every step. decoder(...) (blocks.hpp) wires it.
constexpr Node attention_lstm(int hidden) { return recurrent(Op::attention_lstm, hidden, false); }

inline constexpr Node flatten{.op = Op::flatten};
inline constexpr Node relu{.op = Op::relu};
inline constexpr Node sigmoid{.op = Op::sigmoid};
inline constexpr Node tanh{.op = Op::tanh};
// The mean cross-entropy of softmax over classes at every position of its logits: flat
// (K) logits, one label per sample; (T, K), one per step. pixel_softmax_cross_entropy:
// (K, H, W) logits, one label per pixel (semantic segmentation; both are
// nn.CrossEntropyLoss). Two names, so that a classifier that forgot to flatten its
// (K, 1, 1) logits is still a compile error.
inline constexpr Node softmax_cross_entropy{.op = Op::softmax_cross_entropy};
inline constexpr Node pixel_softmax_cross_entropy{.op = Op::softmax_cross_entropy, .per_pixel = true};

// target_loss(kinds): the weighted sum, over every element of its input (an image
// (C, H, W), flat (F) or a sequence (T, F) such as roi_align's regions), of the element's
// loss against a float target, divided by the batch size N:
//   loss = (1/N) sum_n sum_e weight(e, n) loss_kind(c(e))(x(e, n), target(e, n))
// with c(e) the element's channel (its feature f, for flat inputs and sequences) and the kinds repeating
// every `kinds` channels, so that one pattern covers each anchor of a detector's head:
//   target_loss({logistic, logistic, squared, squared, logistic, logistic})
// Targets and weights come with the batch, as float [N, 2, shape] (target_shape): the
// targets, then the weights. smooth_l1_beta is smooth_l1's b.
template <std::size_t K>
constexpr Node target_loss(const LossKind (&kinds)[K], float smooth_l1_beta = 1.0f) {
  static_assert(K >= 1 && K <= max_loss_kinds, "target_loss: give 1 to 16 loss kinds");
  Node n{.op = Op::target_loss, .alpha = smooth_l1_beta};
  for (std::size_t k = 0; k < K; ++k) n.loss_kinds[k] = kinds[k];
  n.kind_count = int(K);
  return n;
}
// roi_align(R, P, spatial_scale, sampling): torchvision.ops.roi_align(features, boxes,
// output_size=P, spatial_scale, sampling_ratio=sampling, aligned=True) over R regions
// per image given with the batch as float [N, R, 4] (x0, y0, x1, y1 in input pixels).
// Each region is cut into P x P bins, each bin the mean of sampling x sampling bilinear
// samples of the (C, H, W) features at region coordinates times spatial_scale, shifted by
// half a pixel; samples more than a pixel outside the map are 0. Out: (R, C P P), a
// sequence of regions (row r: region r's bins, channel-major, as PyTorch's [R, C, P, P]
// flattened), which dense layers read per region. Differentiable in the features, not
// in the boxes (as torchvision's).
constexpr Node roi_align(int regions, int size, float spatial_scale, int sampling = 2) {
  return Node{.op = Op::roi_align, .units = regions, .kernel_h = size, .kernel_w = size,
              .stride_h = sampling, .stride_w = sampling, .alpha = spatial_scale};
}
// roi_pool(R, P, spatial_scale): torchvision.ops.roi_pool(features, boxes, output_size=P,
// spatial_scale) — Fast R-CNN's RoI max pooling — over the same region list as roi_align.
// A region's corners times spatial_scale are rounded to pixels (half away from zero), the
// region (at least 1 x 1 pixel) cut into P x P bins of (side + 1) / P pixels, each bin
// rounded outwards and clipped to the map, and each bin the maximum of its pixels (0 for
// a bin wholly outside the map). Out: (R, C P P), as roi_align's. The adjoint sends each
// bin's gradient to its first maximum (row-major), as torchvision's.
constexpr Node roi_pool(int regions, int size, float spatial_scale) {
  return Node{.op = Op::roi_pool, .units = regions, .kernel_h = size, .kernel_w = size,
              .stride_h = 1, .stride_w = 1, .alpha = spatial_scale};
}
// coordinates (Liu et al. 2018's CoordConv): (C, H, W) -> (C + 2, H, W), the input's
// channels, then u = (2 x + 1) / W - 1 and v = (2 y + 1) / H - 1 of each pixel (x, y):
// affine_grid's normalized coordinates, -1 to 1 across the image. Before a decoder, each
// location's features then say where it is, and so does the context attention reads.
inline constexpr Node coordinates{.op = Op::coordinates};

// Whether the op reads the region list given with the batch (roi_align, roi_pool).
constexpr bool is_region_op(Op op) { return op == Op::roi_align || op == Op::roi_pool; }

// affine_sample(H, W): a spatial transformer's grid generator and sampler, as PyTorch's
// F.grid_sample(x, F.affine_grid(theta, (N, C, H, W), align_corners=False),
// mode="bilinear", padding_mode="zeros", align_corners=False) with theta = [[1, 0, 0],
// [0, 1, 0]] + the 6 offsets (row-major 2 x 3) of its second input: output pixel (i, j)
// at normalized (x, y) = ((2 j + 1) / W - 1, (2 i + 1) / H - 1) reads the input at
// theta (x, y, 1), bilinearly, zero outside. Inputs (C, H_in, W_in) and (6); out
// (C, H, W); affine_sample() keeps the input's size. Differentiable in both inputs.
// spatial_transformer(...) (blocks.hpp) wires it to its localization branch.
constexpr Node affine_sample(int height = 0, int width = 0) {
  return Node{.op = Op::affine_sample, .kernel_h = height, .kernel_w = width};
}

// What a batch carries beside the model's input: the region list that region layers
// (roi_align, roi_pool) read, R regions of 4 corners per image, as "rois" [N, R, 4]; or
// a decoder's words so far (decoder(tokens(T, V), ...)), as "words" [N, T] token ids,
// (T, 1) per sample like a tokens input. A model has at most one (shape inference).
enum class SideKind : unsigned char { none, regions, words };
struct SideInput {
  SideKind kind = SideKind::none;
  int rows = 0, columns = 0;  // per sample: (R, 4) or (T, 1)
  int node = -1;              // words: the input node that holds them
  int vocabulary = 0;         // words: ids are in [0, vocabulary)
  constexpr std::string_view name() const {
    return kind == SideKind::regions ? "rois" : kind == SideKind::words ? "words" : "";
  }
};
template <class Nodes>
constexpr SideInput side_input_of(const Nodes& nodes) {
  for (int i = 0; i < int(nodes.size()); ++i) {
    const Node& n = nodes[i];
    if (is_region_op(n.op)) return {SideKind::regions, n.units, 4, -1, 0};
    if (i > 0 && n.op == Op::input) return {SideKind::words, n.shape[0], 1, i, n.vocabulary};
  }
  return {};
}
// The recurrent state a model carries from one window of a sequence to the next
// (truncated backpropagation through time): per sample, each rnn, lstm and gru layer's
// state after its last step, in node order: h (H) for rnn and gru, h then c (2 H) for
// lstm. Entries start a window from it and return the one after it (generators/
// entries.hpp); zeros are a fresh start. An attention_lstm (a decoder: every caption
// its own sequence) starts from zero in every window and carries nothing.
constexpr int carried_rows(const Node& n) {
  return n.op == Op::lstm ? 2 * n.units : n.op == Op::rnn || n.op == Op::gru ? n.units : 0;
}
// Node `node`'s first row in the carried state, or with node = nodes.size() its size.
template <class Nodes>
constexpr int carried_offset(const Nodes& nodes, int node) {
  int rows = 0;
  for (int i = 0; i < node; ++i) rows += carried_rows(nodes[i]);
  return rows;
}
template <class Nodes>
constexpr int carried_state_of(const Nodes& nodes) { return carried_offset(nodes, int(nodes.size())); }
// The vocabulary of the model's token ids (its tokens input, or a decoder's words); 0
// without any.
template <class Nodes>
constexpr int token_vocabulary(const Nodes& nodes) {
  for (const Node& n : nodes)
    if (n.op == Op::input && n.vocabulary > 0) return n.vocabulary;
  return 0;
}

// The per-sample shape of target_loss's targets for outputs of shape s: (2, s...).
constexpr Shape target_shape(Shape s) {
  Shape t{s.rank + 1, {2, 0, 0, 0}};
  for (int k = 0; k < s.rank; ++k) t.dims[k + 1] = s[k];
  return t;
}

// What the loss compares logits of per-sample shape s with: the per-sample shape of the
// labels (flat logits: a scalar; (T, K): (T); (K, H, W): (H, W)) and the class count.
constexpr Shape label_shape(Shape logits) {
  if (logits.is_sequence()) return shape(logits[0]);
  if (logits.is_image()) return shape(logits.height(), logits.width());
  return Shape{};
}
constexpr int class_count(Shape logits) { return logits.is_sequence() ? logits[1] : logits[0]; }

// Activations with a constant, as PyTorch's defaults: leaky_relu() is nn.LeakyReLU()
// (slope 0.01), leaky_relu(0.2f) nn.LeakyReLU(0.2); elu() is nn.ELU() (alpha 1).
constexpr Node leaky_relu(float negative_slope = 0.01f) {
  return Node{.op = Op::leaky_relu, .alpha = negative_slope};
}
constexpr Node elu(float alpha = 1.0f) { return Node{.op = Op::elu, .alpha = alpha}; }
// nn.PReLU(num_parameters=C, init): one learned slope per channel (per feature of a
// flat input), weight [C], every slope starting at `init`.
constexpr Node prelu(float init = 0.25f) {
  return Node{.op = Op::prelu, .init = Init::constant, .alpha = init};
}
// nn.BatchNorm2d (images) or nn.BatchNorm1d (flat): out = weight (x - mean) / sqrt(var +
// eps) + bias per channel. Training normalizes by the batch's mean and biased variance
// and moves the running statistics toward them (running = (1 - momentum) running +
// momentum batch, the variance unbiased); inference normalizes by the running ones.
constexpr Node batch_norm(float epsilon = 1e-5f, float momentum = 0.1f) {
  return Node{.op = Op::batch_norm, .init = Init::constant, .epsilon = epsilon, .momentum = momentum};
}
// nn.Dropout(p): in training each element is zeroed with probability p and the rest
// scaled by 1 / (1 - p); inference passes values through. The mask comes from a
// counter-based hash of (seed, layer, element), the same on every target.
constexpr Node dropout(float p = 0.5f) { return Node{.op = Op::dropout, .alpha = p}; }
// Fixed input scaling, (x - mean[c]) / std[c] per channel, as torchvision's
// Normalize(mean, std): normalize({0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}).
// One value of each applies to every channel; otherwise one per channel (up to 4).
template <std::size_t M, std::size_t S>
constexpr Node normalize(const float (&mean)[M], const float (&std)[S]) {
  static_assert(M == S && M >= 1 && M <= 4, "normalize: give as many means as standard deviations, 1 to 4 of each");
  Node n{.op = Op::normalize, .channel_values = int(M)};
  for (std::size_t k = 0; k < M; ++k) {
    n.channel_mean[k] = mean[k];
    n.channel_std[k] = std[k];
  }
  return n;
}
// (C, H, W) -> (C): nn.AdaptiveAvgPool2d(1) followed by flatten.
inline constexpr Node global_avg_pool{.op = Op::global_avg_pool};
// maxout(k) (Goodfellow et al. 2013): output j is the maximum of inputs j k ... j k + k - 1,
// channels of an image, features of a flat input. PyTorch: x.view(N, C / k, k, H, W).amax(2).
constexpr Node maxout(int k) { return Node{.op = Op::maxout, .groups = k}; }

}  // namespace kiln
