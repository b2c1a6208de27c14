// Shape errors as values: model() records the first problem with the layer index, the
// layer's name and the shapes involved, which checked<> turns into the compile error
// (tests/compile_fail/ checks that text). Here the recorded values are checked exactly,
// including the boundaries where a window just fits and just does not.
#include <catch2/catch.hpp>

#include "dsl/kiln.hpp"
#include "printers.hpp"

namespace {
using namespace kiln;

constexpr ShapeError error(Problem p, int layer, Label name, Shape got, Shape other = {}) {
  return ShapeError{p, layer, name, got, other};
}

// Good models record no problem.
static_assert(model("t", input(4), dense(2)).error == ShapeError{});
static_assert(model("t", input(4), dense(2)).error.problem == Problem::none);

static_assert(model("t", conv2d(6, 5), relu).error ==
              error(Problem::first_layer_must_be_input, 0, "conv1", {}));
static_assert(model("t", input(4), dense(3), input(2)).error ==
              error(Problem::input_only_as_first_layer, 2, "words", {}));
static_assert(model("t", input(1, 28, 28), flatten, conv2d(6, 5)).error ==
              error(Problem::conv2d_expects_an_image, 2, "conv1", shape(784)));
static_assert(model("t", input(10), avg_pool(2)).error ==
              error(Problem::pool_expects_an_image, 1, "avg_pool1", shape(10)));
static_assert(model("t", input(3, 4, 4), flatten, global_avg_pool).error ==
              error(Problem::global_avg_pool_expects_an_image, 2, "global_avg_pool1", shape(48)));
static_assert(model("t", input(1, 28, 28), conv2d(6, 5), max_pool(2), dense(10)).error ==
              error(Problem::dense_expects_a_flat_input, 3, "fc1", shape(6, 12, 12)));
static_assert(model("t", input(3, 8, 8), conv2d(10, 8), softmax_cross_entropy).error ==
              error(Problem::loss_expects_flat_logits, 2, "softmax_cross_entropy1",
                    shape(10, 1, 1)));
// The layer reported is the loss (index 2) that something reads, not the reader.
static_assert(model("t", input(8), dense(4), softmax_cross_entropy, relu).error ==
              error(Problem::loss_must_be_last, 2, "softmax_cross_entropy1", shape(1)));
// got: the body's output (32 channels), other: the identity shortcut (16 channels).
static_assert(model("t", input(16, 8, 8), residual(conv2d(32, 3, pad(1)))).error ==
              error(Problem::add_inputs_differ, 2, "add1", shape(32, 8, 8),
                    shape(16, 8, 8)));
// got: the first branch, other: the first branch that differs from it.
static_assert(model("t", input(16, 8, 8), concat(conv2d(8, 1), conv2d(8, 3))).error ==
              error(Problem::concat_needs_images_of_one_size, 3, "concat1", shape(8, 8, 8),
                    shape(8, 6, 6)));
static_assert(model("t", input(3, 8, 8), max_pool(2, stride(0))).error ==
              error(Problem::non_positive_size, 1, "max_pool1", shape(3, 8, 8), shape(2, 2)));
static_assert(model("t", input(3, 8, 8), conv2d(0, 3)).error.problem ==
              Problem::non_positive_size);
static_assert(model("t", input(3, 8, 8), conv2d(4, 3, pad(-1))).error.problem ==
              Problem::non_positive_size);
static_assert(model("t", input(3), dense(0)).error ==
              error(Problem::non_positive_size, 1, "fc1", shape(3)));
// A hand-wired node that reads a later node.
static_assert(model("t", input(4), Node{.op = Op::relu, .inputs = {2, no_input, no_input,
                                                                   no_input}},
                    relu)
                  .error == error(Problem::missing_input, 1, "relu1", {}));

// window_larger_than_padded_input, at the boundary: the window covers the padded input
// exactly (3 + 2 = 5) and passes; one row less (2 + 2 = 4 < 5) fails. other: the window.
static_assert(model("t", input(1, 3, 3), conv2d(1, 5, pad(1))).error == ShapeError{});
static_assert(model("t", input(1, 2, 3), conv2d(1, 5, pad(1))).error ==
              error(Problem::window_larger_than_padded_input, 1, "conv1", shape(1, 2, 3),
                    shape(5, 5)));
// Only the width is short: 6 + 0 < 7.
static_assert(model("t", input(3, 9, 6), max_pool(7)).error ==
              error(Problem::window_larger_than_padded_input, 1, "max_pool1", shape(3, 9, 6),
                    shape(7, 7)));
// A non-square window is reported as (kernel_h, kernel_w).
static_assert(model("t", input(3, 4, 4), conv2d(8, kernel(3, 7), pad(1))).error ==
              error(Problem::window_larger_than_padded_input, 1, "conv1", shape(3, 4, 4),
                    shape(3, 7)));

// The attention ops: a transformer's localization must give 6 numbers; an attention_lstm
// reads a sequence and an image; one input beside the first, at most.
static_assert(model("t", input(1, 8, 8), spatial_transformer(sequence(flatten, dense(5)))).error ==
              error(Problem::transformer_expects_an_image_and_six_offsets, 3, "transformer1", shape(1, 8, 8),
                    shape(5)));
static_assert(model("t", input(1, 8, 8), spatial_transformer(sequence(flatten, dense(6)), 4, 0)).error.problem ==
              Problem::non_positive_size);
static_assert(model("t", input(3, 4, 4), flatten, decoder(tokens(3, 5), embedding(2), attention_lstm(4))).error ==
              error(Problem::attention_expects_a_sequence_and_an_image, 4, "attention_lstm1", shape(3, 2), shape(48)));
static_assert(model("t", input(3, 4, 4), decoder(tokens(3, 5), embedding(2), attention_lstm(4)),
                    decoder(tokens(3, 5).named("more"), embedding(2), lstm(4))).error ==
              error(Problem::one_side_input_only, 4, "more", shape(3, 1)));

// The first problem wins: the dense at 1 is reported, not the conv2d at 2.
static_assert(model("t", input(1, 8, 8), dense(4), conv2d(2, 3)).error.layer == 1);

}  // namespace

TEST_CASE("dsl errors: a user-named layer is reported by its name, deep in a model") {
  const auto m = model("t", input(3, 32, 32), conv2d(8, 3, pad(1)), relu, max_pool(2),
                       conv2d(8, 3, pad(1)), relu, max_pool(2), max_pool(2), max_pool(2),
                       max_pool(2).named("too_far"));
  // 32 -> 16 -> 8 -> 4 -> 2, and a fifth 2x2 window fits 2x2 once: 1x1. Then no more.
  CHECK(m.error == ShapeError{});
  const auto deeper = model("t", input(3, 32, 32), conv2d(8, 3, pad(1)), max_pool(2),
                            max_pool(2), max_pool(2), max_pool(2), max_pool(2),
                            max_pool(2).named("too_far"));
  CHECK(deeper.error.problem == Problem::window_larger_than_padded_input);
  CHECK(deeper.error.layer == 7);
  CHECK(deeper.error.name.view() == "too_far");
  CHECK(deeper.error.got == shape(8, 1, 1));
}
