// Shape inference and the compile errors it raises.
//
// infer_shapes() fills in every node's output shape and returns the first problem it
// finds as a ShapeError value. report<E>() turns a problem into a compile error: it
// instantiates a class template named after the problem whose arguments are the layer
// index, the layer name and the shapes, so the compiler's first line reads e.g.
//   In instantiation of 'struct kiln::shape_error::dense_expects_a_flat_input<
//       4, "fc1", Shape{3, {16, 5, 5}}>'
// followed by a static_assert that says what to change.
#pragma once
#include "dsl/layers.hpp"

namespace kiln {

enum class Problem : unsigned char {
  none,
  first_layer_must_be_input,
  input_only_as_first_layer,
  missing_input,
  conv2d_expects_an_image,
  pool_expects_an_image,
  global_avg_pool_expects_an_image,
  window_larger_than_padded_input,
  pool_padding_over_half_the_window,
  channels_not_divisible_by_groups,
  maxout_channels_not_divisible,
  dense_expects_a_flat_input,
  loss_expects_flat_logits,
  loss_must_be_last,
  add_inputs_differ,
  concat_needs_images_of_one_size,
  non_positive_size,
  duplicate_name,
  dropout_probability_outside_0_1,
  normalize_values_differ_from_channels,
  batch_norm_epsilon_or_momentum_out_of_range,
  embedding_expects_tokens,
  recurrent_expects_a_sequence,
  loss_classes_differ_from_vocabulary,
  upsampling_expects_an_image,
  padding_swallows_the_output,
  pixel_loss_expects_image_logits,
  loss_channels_not_a_multiple_of_its_kinds,
  heads_must_end_the_model,
  each_head_needs_one_target_loss,
  region_layer_expects_an_image,
  region_counts_differ,
  one_side_input_only,
  transformer_expects_an_image_and_six_offsets,
  attention_expects_a_sequence_and_an_image,
  coordinates_expect_an_image,
};

struct ShapeError {
  Problem problem = Problem::none;
  int layer = -1;
  Label name{};
  Shape got{};    // the shape that reached the layer
  Shape other{};  // the second shape involved (the other input, or the kernel window)
  friend constexpr bool operator==(const ShapeError&, const ShapeError&) = default;
};

namespace detail {

// Output size of a window of k with stride s over n padded by p on both sides.
constexpr int window_out(int n, int k, int s, int p) { return (n + 2 * p - k) / s + 1; }

constexpr ShapeError fail(Problem p, int i, const Node& n, Shape got, Shape other = {}) {
  return ShapeError{p, i, n.name, got, other};
}

}  // namespace detail

template <std::size_t N>
constexpr ShapeError infer_shapes(std::array<Node, N>& nodes) {
  using detail::fail;
  if (nodes[0].op != Op::input) return fail(Problem::first_layer_must_be_input, 0, nodes[0], {});
  for (int k = 0; k < nodes[0].shape.rank; ++k)
    if (nodes[0].shape[k] <= 0) return fail(Problem::non_positive_size, 0, nodes[0], nodes[0].shape);
  // What the batch carries beside the input: a decoder's words or the region layers'
  // list of regions (one list for them all), not both (SideInput, layers.hpp).
  int words = 0;
  bool regions = false;
  for (int i = 1; i < int(N); ++i) {
    Node& n = nodes[i];
    if (n.op == Op::input) {  // only a decoder's words (decoder(tokens(T, V), ...))
      if (n.vocabulary <= 0 || n.shape.rank != 2 || n.shape[1] != 1)
        return fail(Problem::input_only_as_first_layer, i, n, {});
      if (n.shape[0] <= 0) return fail(Problem::non_positive_size, i, n, n.shape);
      if (words++ > 0 || regions) return fail(Problem::one_side_input_only, i, n, n.shape);
      continue;
    }
    if (is_region_op(n.op)) {
      if (words > 0) return fail(Problem::one_side_input_only, i, n, n.shape);
      regions = true;
    }
    if (n.input_count() == 0) return fail(Problem::missing_input, i, n, {});
    for (int k = 0; k < n.input_count(); ++k)
      if (n.inputs[k] < 0 || n.inputs[k] >= i) return fail(Problem::missing_input, i, n, {});
    for (int k = 0; k < n.input_count(); ++k) {
      const Node& src = nodes[n.inputs[k]];
      if (is_loss(src.op)) return fail(Problem::loss_must_be_last, n.inputs[k], src, src.shape);
    }
    const Shape in = nodes[n.inputs[0]].shape;
    switch (n.op) {
      case Op::conv2d:
      case Op::max_pool:
      case Op::avg_pool: {
        if (!in.is_image())
          return fail(n.op == Op::conv2d ? Problem::conv2d_expects_an_image
                                         : Problem::pool_expects_an_image, i, n, in);
        if (n.kernel_h <= 0 || n.kernel_w <= 0 || n.stride_h <= 0 || n.stride_w <= 0 ||
            n.pad_h < 0 || n.pad_w < 0 || n.dilation_h <= 0 || n.dilation_w <= 0 ||
            n.groups <= 0 || (n.op == Op::conv2d && n.units <= 0))
          return fail(Problem::non_positive_size, i, n, in, shape(n.kernel_h, n.kernel_w));
        // The input span of a dilated kernel: d (K - 1) + 1 (K itself when d = 1).
        const Shape window = shape(n.dilation_h * (n.kernel_h - 1) + 1,
                                   n.dilation_w * (n.kernel_w - 1) + 1);
        const int h = detail::window_out(in.height(), window[0], n.stride_h, n.pad_h);
        const int w = detail::window_out(in.width(), window[1], n.stride_w, n.pad_w);
        if (in.height() + 2 * n.pad_h < window[0] || in.width() + 2 * n.pad_w < window[1])
          return fail(Problem::window_larger_than_padded_input, i, n, in, window);
        if (n.op == Op::conv2d && (in.channels() % n.groups != 0 || n.units % n.groups != 0))
          return fail(Problem::channels_not_divisible_by_groups, i, n, in,
                      shape(in.channels(), n.units, n.groups));
        // As PyTorch: a pooling window must hold at least one real pixel.
        if (n.op != Op::conv2d && (2 * n.pad_h > n.kernel_h || 2 * n.pad_w > n.kernel_w))
          return fail(Problem::pool_padding_over_half_the_window, i, n, in,
                      shape(n.kernel_h, n.kernel_w, n.pad_h, n.pad_w));
        n.shape = shape(n.op == Op::conv2d ? n.units : in.channels(), h, w);
        break;
      }
      case Op::conv_transpose2d:
      case Op::upsample_bilinear: {
        if (!in.is_image()) return fail(Problem::upsampling_expects_an_image, i, n, in);
        const bool deconv = n.op == Op::conv_transpose2d;
        if (n.stride_h <= 0 || n.stride_w <= 0 ||
            (deconv && (n.units <= 0 || n.kernel_h <= 0 || n.kernel_w <= 0 || n.pad_h < 0 || n.pad_w < 0)))
          return fail(Problem::non_positive_size, i, n, in, shape(n.kernel_h, n.kernel_w));
        if (!deconv) {
          n.shape = shape(in.channels(), in.height() * n.stride_h, in.width() * n.stride_w);
          break;
        }
        // The full output of the transposed conv, less the padding cut from each side.
        const int h = (in.height() - 1) * n.stride_h + n.kernel_h - 2 * n.pad_h;
        const int w = (in.width() - 1) * n.stride_w + n.kernel_w - 2 * n.pad_w;
        if (h <= 0 || w <= 0)
          return fail(Problem::padding_swallows_the_output, i, n, in, shape(n.kernel_h, n.kernel_w, n.pad_h, n.pad_w));
        n.shape = shape(n.units, h, w);
        break;
      }
      case Op::global_avg_pool:
        if (!in.is_image()) return fail(Problem::global_avg_pool_expects_an_image, i, n, in);
        n.shape = shape(in.channels());
        break;
      case Op::maxout: {
        if (n.groups <= 0) return fail(Problem::non_positive_size, i, n, in, shape(n.groups));
        // Pieces run along channels of an image, along the features of a flat input.
        const int pieces_of = in.is_image() ? in.channels() : in[0];
        if (pieces_of % n.groups != 0)
          return fail(Problem::maxout_channels_not_divisible, i, n, in, shape(n.groups));
        n.shape = in;
        n.shape.dims[0] = pieces_of / n.groups;
        break;
      }
      case Op::dense:  // on a flat input, or at every step of a sequence
        if (!in.is_flat() && !in.is_sequence()) return fail(Problem::dense_expects_a_flat_input, i, n, in);
        if (n.units <= 0) return fail(Problem::non_positive_size, i, n, in);
        n.shape = in.is_flat() ? shape(n.units) : shape(in[0], n.units);
        break;
      case Op::embedding:
      case Op::one_hot: {
        const Node& src = nodes[n.inputs[0]];
        if (src.op != Op::input || src.vocabulary <= 0 || !in.is_sequence() || in[1] != 1)
          return fail(Problem::embedding_expects_tokens, i, n, in);
        if (n.op == Op::embedding && n.units <= 0) return fail(Problem::non_positive_size, i, n, in);
        n.vocabulary = src.vocabulary;
        n.shape = shape(in[0], n.op == Op::embedding ? n.units : n.vocabulary);
        break;
      }
      case Op::rnn:
      case Op::lstm:
      case Op::gru:
        if (!in.is_sequence()) return fail(Problem::recurrent_expects_a_sequence, i, n, in);
        if (n.units <= 0) return fail(Problem::non_positive_size, i, n, in);
        n.shape = n.last_step ? shape(n.units) : shape(in[0], n.units);
        break;
      case Op::attention_lstm: {  // a sequence, and the image it attends over
        const Shape grid = n.input_count() > 1 ? nodes[n.inputs[1]].shape : Shape{};
        if (!in.is_sequence() || !grid.is_image() || n.input_count() != 2)
          return fail(Problem::attention_expects_a_sequence_and_an_image, i, n, in, grid);
        if (n.units <= 0) return fail(Problem::non_positive_size, i, n, in);
        n.context = grid.channels();
        n.shape = shape(in[0], n.units + n.context);
        break;
      }
      case Op::affine_sample: {  // an image and 6 offsets from the identity map
        const Shape offsets = n.input_count() > 1 ? nodes[n.inputs[1]].shape : Shape{};
        if (!in.is_image() || offsets != shape(6) || n.input_count() != 2)
          return fail(Problem::transformer_expects_an_image_and_six_offsets, i, n, in, offsets);
        if (n.kernel_h < 0 || n.kernel_w < 0 || (n.kernel_h == 0) != (n.kernel_w == 0))
          return fail(Problem::non_positive_size, i, n, in, shape(n.kernel_h, n.kernel_w));
        n.shape = n.kernel_h == 0 ? in : shape(in.channels(), n.kernel_h, n.kernel_w);
        break;
      }
      case Op::coordinates:
        if (!in.is_image()) return fail(Problem::coordinates_expect_an_image, i, n, in);
        n.shape = shape(in.channels() + 2, in.height(), in.width());
        break;
      case Op::flatten:
        n.shape = shape(int(in.elements()));
        break;
      case Op::dropout:
        if (!(n.alpha >= 0.0f && n.alpha < 1.0f))
          return fail(Problem::dropout_probability_outside_0_1, i, n, in);
        n.shape = in;
        break;
      case Op::normalize:
        if (!in.is_image() || (n.channel_values != 1 && n.channel_values != in.channels()))
          return fail(Problem::normalize_values_differ_from_channels, i, n, in, shape(n.channel_values));
        for (int k = 0; k < n.channel_values; ++k)
          if (!(n.channel_std[k] > 0.0f))
            return fail(Problem::normalize_values_differ_from_channels, i, n, in, shape(n.channel_values));
        n.shape = in;
        break;
      case Op::batch_norm:
        if (!(n.epsilon > 0.0f) || !(n.momentum >= 0.0f && n.momentum <= 1.0f))
          return fail(Problem::batch_norm_epsilon_or_momentum_out_of_range, i, n, in);
        n.shape = in;
        break;
      case Op::relu:
      case Op::sigmoid:
      case Op::tanh:
      case Op::leaky_relu:
      case Op::elu:
      case Op::prelu:
        n.shape = in;
        break;
      case Op::add:
        if (n.input_count() != 2 || nodes[n.inputs[1]].shape != in)
          return fail(Problem::add_inputs_differ, i, n, in, nodes[n.inputs[1]].shape);
        n.shape = in;
        break;
      case Op::concat: {
        int channels = 0;
        for (int k = 0; k < n.input_count(); ++k) {
          const Shape s = nodes[n.inputs[k]].shape;
          if (!s.is_image() || !in.is_image() || s.height() != in.height() ||
              s.width() != in.width())
            return fail(Problem::concat_needs_images_of_one_size, i, n, in, s);
          channels += s.channels();
        }
        n.shape = shape(channels, in.height(), in.width());
        break;
      }
      case Op::softmax_cross_entropy:  // one class per sample, per step of a sequence, or per pixel
        if (n.per_pixel && !in.is_image()) return fail(Problem::pixel_loss_expects_image_logits, i, n, in);
        if (!n.per_pixel && !in.is_flat() && !in.is_sequence())
          return fail(Problem::loss_expects_flat_logits, i, n, in);
        // A language model predicts the next token: as many classes as the vocabulary.
        if (in.is_sequence() && token_vocabulary(nodes) > 0 && in[1] != token_vocabulary(nodes))
          return fail(Problem::loss_classes_differ_from_vocabulary, i, n, in, shape(token_vocabulary(nodes)));
        n.shape = shape(1);
        break;
      case Op::target_loss: {  // the kinds repeat over channels (images) or features
        const int channels = in.is_sequence() ? in[1] : in[0];
        if (n.kind_count < 1 || channels % n.kind_count != 0 ||
            !(n.alpha > 0))
          return fail(Problem::loss_channels_not_a_multiple_of_its_kinds, i, n, in, shape(n.kind_count));
        n.shape = shape(1);
        break;
      }
      case Op::roi_align:  // regions of an image; sizes positive
      case Op::roi_pool:
        if (!in.is_image()) return fail(Problem::region_layer_expects_an_image, i, n, in);
        if (n.units <= 0 || n.kernel_h <= 0 || n.stride_h <= 0 || !(n.alpha > 0))
          return fail(Problem::non_positive_size, i, n, in, shape(n.units, n.kernel_h, n.stride_h));
        for (int j = 1; j < i; ++j)  // every region layer reads the same list of regions
          if (is_region_op(nodes[j].op) && nodes[j].units != n.units)
            return fail(Problem::region_counts_differ, i, n, in, shape(nodes[j].units, n.units));
        n.shape = shape(n.units, in.channels() * n.kernel_h * n.kernel_w);
        break;
      case Op::heads: {  // the joined heads: each read by exactly one target_loss
        if (i != int(N) - 1) return fail(Problem::heads_must_end_the_model, i, n, in);
        long long total = 0;
        for (int k = 0; k < n.input_count(); ++k) {
          int losses = 0, readers = 0;
          for (int j = 0; j < int(N); ++j)
            for (int q = 0; q < nodes[j].input_count(); ++q)
              if (j != i && nodes[j].inputs[q] == n.inputs[k]) {
                ++readers;
                losses += nodes[j].op == Op::target_loss;
              }
          if (losses != 1 || readers != 1)
            return fail(Problem::each_head_needs_one_target_loss, i, n, nodes[n.inputs[k]].shape, shape(k));
          total += nodes[n.inputs[k]].shape.elements();
        }
        n.shape = shape(int(total));
        break;
      }
      case Op::input:
        break;
    }
  }

  // Names key checkpoints and schedule overrides: each must be unique.
  for (int i = 1; i < int(N); ++i)
    for (int j = 0; j < i; ++j)
      if (nodes[i].name == nodes[j].name)
        return fail(Problem::duplicate_name, i, nodes[i], nodes[i].shape, shape(j));
  return {};
}

// One class template per problem. Its name is the message; its arguments are the layer
// index, the layer's name and the shapes; the static_assert says what to change.
namespace shape_error {
template <int Layer, Label Name, Shape First>
struct first_layer_must_be_input { static_assert(Layer < 0, "kiln::model: start the model with input(C, H, W) or input(F)"); };
template <int Layer, Label Name, Shape Got>
struct input_only_as_first_layer { static_assert(Layer < 0, "kiln::model: input(...) may only be the first layer (later, only a decoder's words: decoder(tokens(T, V), ...))"); };
template <int Layer, Label Name, Shape Got>
struct layer_has_no_input { static_assert(Layer < 0, "kiln::model: this layer reads no earlier node; check the block wiring"); };
template <int Layer, Label Name, Shape Got>
struct conv2d_expects_an_image_input { static_assert(Layer < 0, "conv2d: expects a (C, H, W) input; do not flatten before it"); };
template <int Layer, Label Name, Shape Got>
struct pooling_expects_an_image_input { static_assert(Layer < 0, "max_pool/avg_pool: expects a (C, H, W) input; do not flatten before it"); };
template <int Layer, Label Name, Shape Got>
struct global_avg_pool_expects_an_image_input { static_assert(Layer < 0, "global_avg_pool: expects a (C, H, W) input and gives (C) itself; do not flatten before it"); };
template <int Layer, Label Name, Shape Got, Shape Window>
struct window_larger_than_padded_input { static_assert(Layer < 0, "conv2d/pool: the window (for conv2d its dilated span d (K - 1) + 1) does not fit the (padded) input; pad more, use a smaller kernel or dilation, or drop an earlier pooling"); };
template <int Layer, Label Name, Shape Got, Shape KernelThenPad>
struct pool_padding_over_half_the_window { static_assert(Layer < 0, "max_pool/avg_pool: padding may be at most half the window (as in PyTorch); pad less or use a larger window"); };
template <int Layer, Label Name, Shape Got, Shape InOutGroups>
struct channels_not_divisible_by_groups { static_assert(Layer < 0, "conv2d: groups(g) needs input and output channels both divisible by g (InOutGroups: C, O, g); change g or the channel counts"); };
template <int Layer, Label Name, Shape Got, Shape Pieces>
struct maxout_channels_not_divisible { static_assert(Layer < 0, "maxout(k): the input's channels (features, if flat) must be a multiple of k; change k or the layer before"); };
template <int Layer, Label Name, Shape Got>
struct dense_expects_a_flat_input { static_assert(Layer < 0, "dense: expects a flat (F) input or a (T, F) sequence; insert flatten before it"); };
template <int Layer, Label Name, Shape Got>
struct softmax_cross_entropy_expects_flat_logits { static_assert(Layer < 0, "softmax_cross_entropy: expects flat (classes) logits, or per-step (T, classes) logits of a sequence; end the model with dense(classes), or flatten (K, 1, 1) logits; per-pixel (K, H, W) logits take pixel_softmax_cross_entropy"); };
template <int Layer, Label Name, Shape Got, Shape Kinds>
struct target_loss_channels_not_a_multiple_of_its_kinds { static_assert(Layer < 0, "target_loss(kinds): expects an input whose channels (C of (C, H, W); F of (F) or of a sequence (T, F)) are a multiple of the number of kinds, and a positive smooth_l1 beta; change the head's channels or the kinds"); };
template <int Layer, Label Name, Shape Got>
struct region_layer_expects_an_image_input { static_assert(Layer < 0, "roi_align / roi_pool: expects a (C, H, W) feature map to cut its regions from; place it after the convs, before any flatten"); };
template <int Layer, Label Name, Shape Got, Shape EarlierThenThis>
struct region_counts_differ { static_assert(Layer < 0, "roi_align / roi_pool: every region layer of a model reads the same list of regions given with the batch, so all must take the same number R"); };
template <int Layer, Label Name, Shape Got>
struct one_input_beside_the_first_only { static_assert(Layer < 0, "kiln::model: a model reads at most one input beside its first: one decoder's words (decoder(tokens(T, V), ...)) or the regions its roi_align / roi_pool layers read, not both"); };
template <int Layer, Label Name, Shape Got, Shape Offsets>
struct transformer_expects_an_image_and_six_offsets { static_assert(Layer < 0, "spatial_transformer / affine_sample: samples a (C, H, W) image on an affine grid, so the localization branch must end in 6 numbers (dense(6)); and give both output sizes or neither"); };
template <int Layer, Label Name, Shape Got, Shape Grid>
struct attention_expects_a_sequence_and_an_image { static_assert(Layer < 0, "attention_lstm: reads a (T, E) sequence (the decoder's embedded words) and attends over a (C, h, w) feature grid (the decoder block's input); place it inside decoder(tokens(T, V), embedding(E), attention_lstm(H)) after the convs"); };
template <int Layer, Label Name, Shape Got>
struct coordinates_expect_an_image_input { static_assert(Layer < 0, "coordinates: appends the (x, y) of every pixel to a (C, H, W) image; place it before any flatten"); };
template <int Layer, Label Name, Shape Got>
struct heads_must_end_the_model { static_assert(Layer < 0, "heads(...): joins the model's heads into its output, so it must be the model's last part"); };
template <int Layer, Label Name, Shape Head, Shape Index>
struct each_head_needs_exactly_one_reader_its_target_loss { static_assert(Layer < 0, "heads(...): end every branch with a target_loss that reads the head's output, and read that output nowhere else (Index: the branch)"); };
template <int Layer, Label Name, Shape Got>
struct nothing_may_follow_a_loss { static_assert(Layer < 0, "kiln::model: a loss must be the last layer of its branch"); };
template <int Layer, Label Name, Shape Got, Shape Other>
struct add_inputs_differ_in_shape { static_assert(Layer < 0, "residual add: both inputs must have the same shape; give the shortcut a projection (conv2d 1x1 with the body's stride and channels)"); };
template <int Layer, Label Name, Shape Got, Shape Other>
struct concat_inputs_differ_in_height_or_width { static_assert(Layer < 0, "concat: every branch must give a (C, H, W) output of the same H and W; match strides and padding"); };
template <int Layer, Label Name, Shape Got, Shape EarlierLayer>
struct two_layers_share_a_name { static_assert(Layer < 0, "kiln::model: two layers share this name (the other is the layer in EarlierLayer); rename one with .named(...)"); };
template <int Layer, Label Name, Shape Got, Shape Window>
struct sizes_must_be_positive { static_assert(Layer < 0, "kiln layer: channels, units, kernel and stride must be positive and padding non-negative"); };
template <int Layer, Label Name, Shape Got>
struct dropout_probability_outside_0_1 { static_assert(Layer < 0, "dropout(p): p is the probability of zeroing an element, 0 <= p < 1"); };
template <int Layer, Label Name, Shape Got, Shape Values>
struct normalize_values_differ_from_channels { static_assert(Layer < 0, "normalize(mean, std): expects a (C, H, W) input and one value (every channel) or C values of each; every std must be positive"); };
template <int Layer, Label Name, Shape Got>
struct batch_norm_epsilon_or_momentum_out_of_range { static_assert(Layer < 0, "batch_norm(eps, momentum): eps must be positive and 0 <= momentum <= 1"); };
template <int Layer, Label Name, Shape Got>
struct embedding_expects_token_ids { static_assert(Layer < 0, "embedding/one_hot: read the token ids of the model's input; start the model with tokens(T, V), V > 0, and put embedding(D) or one_hot right after it"); };
template <int Layer, Label Name, Shape Got>
struct recurrent_layer_expects_a_sequence { static_assert(Layer < 0, "rnn/lstm/gru: expects a (T, F) sequence; feed it from tokens(T, V) through embedding(D) or one_hot, from input_sequence(T, F), or from a recurrent layer without last_step"); };
template <int Layer, Label Name, Shape Got, Shape Vocabulary>
struct loss_classes_differ_from_vocabulary { static_assert(Layer < 0, "softmax_cross_entropy: a language model's per-step logits (T, K) predict the next token, so K must equal the vocabulary V of tokens(T, V); end the model with dense(V)"); };
template <int Layer, Label Name, Shape Got>
struct upsampling_expects_an_image_input { static_assert(Layer < 0, "conv_transpose2d/upsample_bilinear: expects a (C, H, W) input; do not flatten before it"); };
template <int Layer, Label Name, Shape Got, Shape KernelThenPad>
struct padding_swallows_the_output { static_assert(Layer < 0, "conv_transpose2d: (H - 1) stride + kernel - 2 pad must be positive; pad less or use a larger kernel or stride"); };
template <int Layer, Label Name, Shape Got>
struct pixel_softmax_cross_entropy_expects_image_logits { static_assert(Layer < 0, "pixel_softmax_cross_entropy: expects per-pixel (classes, H, W) logits; end the model with conv2d(classes, 1), or use softmax_cross_entropy for flat logits"); };
}  // namespace shape_error

template <ShapeError E>
constexpr bool report() {
  using namespace shape_error;
  constexpr int L = E.layer;
  if constexpr (E.problem == Problem::first_layer_must_be_input) (void)first_layer_must_be_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::input_only_as_first_layer) (void)input_only_as_first_layer<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::missing_input) (void)layer_has_no_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::conv2d_expects_an_image) (void)conv2d_expects_an_image_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::pool_expects_an_image) (void)pooling_expects_an_image_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::global_avg_pool_expects_an_image) (void)global_avg_pool_expects_an_image_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::window_larger_than_padded_input) (void)window_larger_than_padded_input<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::pool_padding_over_half_the_window) (void)pool_padding_over_half_the_window<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::channels_not_divisible_by_groups) (void)channels_not_divisible_by_groups<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::maxout_channels_not_divisible) (void)maxout_channels_not_divisible<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::dense_expects_a_flat_input) (void)dense_expects_a_flat_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::loss_expects_flat_logits) (void)softmax_cross_entropy_expects_flat_logits<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::loss_must_be_last) (void)nothing_may_follow_a_loss<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::add_inputs_differ) (void)add_inputs_differ_in_shape<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::concat_needs_images_of_one_size) (void)concat_inputs_differ_in_height_or_width<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::non_positive_size) (void)sizes_must_be_positive<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::duplicate_name) (void)two_layers_share_a_name<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::dropout_probability_outside_0_1) (void)dropout_probability_outside_0_1<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::normalize_values_differ_from_channels) (void)normalize_values_differ_from_channels<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::batch_norm_epsilon_or_momentum_out_of_range) (void)batch_norm_epsilon_or_momentum_out_of_range<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::embedding_expects_tokens) (void)embedding_expects_token_ids<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::recurrent_expects_a_sequence) (void)recurrent_layer_expects_a_sequence<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::loss_classes_differ_from_vocabulary) (void)loss_classes_differ_from_vocabulary<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::upsampling_expects_an_image) (void)upsampling_expects_an_image_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::padding_swallows_the_output) (void)padding_swallows_the_output<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::pixel_loss_expects_image_logits) (void)pixel_softmax_cross_entropy_expects_image_logits<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::region_layer_expects_an_image) (void)region_layer_expects_an_image_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::region_counts_differ) (void)region_counts_differ<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::one_side_input_only) (void)one_input_beside_the_first_only<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::transformer_expects_an_image_and_six_offsets) (void)transformer_expects_an_image_and_six_offsets<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::attention_expects_a_sequence_and_an_image) (void)attention_expects_a_sequence_and_an_image<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::coordinates_expect_an_image) (void)coordinates_expect_an_image_input<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::heads_must_end_the_model) (void)heads_must_end_the_model<L, E.name, E.got>{};
  if constexpr (E.problem == Problem::each_head_needs_one_target_loss) (void)each_head_needs_exactly_one_reader_its_target_loss<L, E.name, E.got, E.other>{};
  if constexpr (E.problem == Problem::loss_channels_not_a_multiple_of_its_kinds) (void)target_loss_channels_not_a_multiple_of_its_kinds<L, E.name, E.got, E.other>{};
  return E.problem == Problem::none;
}

}  // namespace kiln
