// Composition: sequence, residual (identity and projection shortcuts), concat, repeat<N>, heads.
// A block is placed into the model's flat node array in order; these tests check where
// each node lands, which nodes it reads (its wiring) and the shapes that result.
#include <catch2/catch.hpp>

#include <array>

#include "dsl/kiln.hpp"
#include "printers.hpp"

namespace {
using namespace kiln;

using Inputs = std::array<int, max_inputs>;
constexpr Inputs reads(int a, int b = no_input, int c = no_input, int d = no_input) {
  return {a, b, c, d};
}

// Node counts: a block is as many nodes as its parts, plus one for an add or a concat.
static_assert(count_nodes<Node, Node> == 2);
static_assert(node_count<decltype(sequence(dense(2), relu, dense(2)))>::value == 3);
static_assert(node_count<decltype(residual(sequence(dense(2), relu)))>::value == 3);
static_assert(node_count<decltype(residual(dense(2), dense(2)))>::value == 3);
static_assert(node_count<decltype(concat(dense(2), sequence(dense(2), relu)))>::value == 4);
static_assert(node_count<decltype(repeat<3>(residual(sequence(dense(2), relu))))>::value == 9);

// A plain chain reads the node before it.
constexpr auto chain = model("t", input(4), dense(8), relu, dense(2));
static_assert(chain[0].inputs == reads(no_input));
static_assert(chain[1].inputs == reads(0) && chain[2].inputs == reads(1) &&
              chain[3].inputs == reads(2));

// sequence(...) is the same chain as writing its parts inline, nested or not.
constexpr auto grouped = model("t", input(4), sequence(dense(8), sequence(relu)), dense(2));
static_assert(grouped.size() == 4);
static_assert(grouped.nodes == chain.nodes);

// residual with the identity shortcut: add(body output, block input).
//   0 input 16x8x8, 1 conv1, 2 relu1, 3 conv2, 4 add1 = 3 + 0, 5 relu2
constexpr auto basic = model("t", input(16, 8, 8),
                             residual(sequence(conv2d(16, 3, pad(1)), relu, conv2d(16, 3, pad(1)))),
                             relu);
static_assert(basic.error == ShapeError{});
static_assert(basic.size() == 6);
static_assert(basic[1].inputs == reads(0) && basic[2].inputs == reads(1) &&
              basic[3].inputs == reads(2));
static_assert(basic[4].op == Op::add && basic[4].inputs == reads(3, 0));
static_assert(basic[5].inputs == reads(4));
static_assert(basic[4].shape == shape(16, 8, 8) && basic[5].shape == shape(16, 8, 8));

// A block that does not start the model: its entry is the node before it, not node 0.
//   0 input, 1 conv1, 2 conv2, 3 add1 = 2 + 1
constexpr auto late = model("t", input(3, 8, 8), conv2d(16, 3, pad(1)),
                            residual(conv2d(16, 3, pad(1))));
static_assert(late[2].inputs == reads(1));
static_assert(late[3].inputs == reads(2, 1));

// residual with a projection shortcut: both branches read the block input.
//   0 input 16x8x8
//   1 conv1 (body)     -> 32x4x4   (8 - 3 + 2) / 2 + 1 = 4
//   2 relu1
//   3 conv2 (body)     -> 32x4x4
//   4 conv3 (shortcut) -> 32x4x4   (8 - 1) / 2 + 1 = 4
//   5 add1 = 3 + 4
constexpr auto down = model(
    "t", input(16, 8, 8),
    residual(sequence(conv2d(32, 3, stride(2), pad(1)), relu, conv2d(32, 3, pad(1))),
             conv2d(32, 1, stride(2))));
static_assert(down.error == ShapeError{});
static_assert(down.size() == 6);
static_assert(down[1].inputs == reads(0));
static_assert(down[3].inputs == reads(2));
static_assert(down[4].inputs == reads(0));  // the shortcut reads the block input
static_assert(down[5].op == Op::add && down[5].inputs == reads(3, 4));
static_assert(down[1].shape == shape(32, 4, 4) && down[4].shape == shape(32, 4, 4));
static_assert(down.output_shape() == shape(32, 4, 4));
static_assert(down.parameter_table()[4].name == Label("conv3.weight"));
static_assert(down.parameter_table()[4].shape == shape(32, 16, 1, 1));
// 3*3*16*32 + 32 = 4640, 3*3*32*32 + 32 = 9248, 1*1*16*32 + 32 = 544.
static_assert(down.parameter_count() == 4640 + 9248 + 544);

// concat: every branch reads the block input; channels add up in branch order.
//   0 input 16x8x8
//   1 conv1 -> 8x8x8                       (branch 1)
//   2 conv2 -> 4x8x8, 3 conv3 -> 12x8x8    (branch 2)
//   4 max_pool1 -> 16x8x8                  (branch 3: (8 - 3 + 2) / 1 + 1 = 8)
//   5 concat1 = 1, 3, 4 -> (8 + 12 + 16)x8x8
constexpr auto inception = model(
    "t", input(16, 8, 8),
    concat(conv2d(8, 1), sequence(conv2d(4, 1), conv2d(12, 3, pad(1))),
           max_pool(3, stride(1), pad(1))));
static_assert(inception.error == ShapeError{});
static_assert(inception[1].inputs == reads(0));
static_assert(inception[2].inputs == reads(0) && inception[3].inputs == reads(2));
static_assert(inception[4].inputs == reads(0));
static_assert(inception[5].op == Op::concat && inception[5].inputs == reads(1, 3, 4));
static_assert(inception[5].shape == shape(36, 8, 8));
// Four branches, the most concat takes; one is the block input passed through a 1x1 pool.
constexpr auto four = model("t", input(2, 5, 5),
                            concat(conv2d(1, 1), conv2d(3, 3, pad(1)), avg_pool(1),
                                   conv2d(5, kernel(1, 3), pad(0, 1))));
static_assert(four[5].inputs == reads(1, 2, 3, 4));
static_assert(four.output_shape() == shape(1 + 3 + 2 + 5, 5, 5));

// repeat<N>(part): N copies in a chain, each reading the previous copy's output.
//   0 input 8x4x4; copy k (k = 0, 1, 2) at b = 1 + 3k: b conv, b+1 relu, b+2 add = b+1 + (b-1)
constexpr auto stage = model("t", input(8, 4, 4),
                             repeat<3>(residual(sequence(conv2d(8, 3, pad(1)), relu))));
static_assert(stage.error == ShapeError{});
static_assert(stage.size() == 10);
static_assert(stage[1].inputs == reads(0) && stage[3].inputs == reads(2, 0));
static_assert(stage[4].inputs == reads(3) && stage[6].inputs == reads(5, 3));
static_assert(stage[7].inputs == reads(6) && stage[9].inputs == reads(8, 6));
static_assert(stage[7].name == Label("conv3") && stage[9].name == Label("add3"));
static_assert(stage.parameter_count() == 3 * (3 * 3 * 8 * 8 + 8));

// repeat of one layer is a plain chain.
constexpr auto mlp = model("t", input(8), repeat<4>(dense(8)), dense(2));
static_assert(mlp.size() == 6);
static_assert(mlp[4].inputs == reads(3) && mlp[4].name == Label("fc4"));
static_assert(mlp.parameter_count() == 4 * (8 * 8 + 8) + (8 * 2 + 2));
static_assert(model("t", input(8), repeat<1>(dense(8))).nodes ==
              model("t", input(8), dense(8)).nodes);

// Blocks nest: a residual inside a sequence inside a repeat.
//   copy k at b = 1 + 4k: b fc, b+1 relu, b+2 add = b+1 + (b-1), b+3 sigmoid
constexpr auto nested = model("t", input(6), repeat<2>(sequence(residual(sequence(dense(6), relu)),
                                                                  sigmoid)));
static_assert(nested.size() == 9);
static_assert(nested[3].inputs == reads(2, 0) && nested[4].inputs == reads(3));
static_assert(nested[5].inputs == reads(4) && nested[7].inputs == reads(6, 4));
static_assert(nested[8].op == Op::sigmoid && nested[8].inputs == reads(7));

}  // namespace

TEST_CASE("dsl blocks: a ResNet-style stage, checked when the program runs") {
  // Stem, then a downsampling block and an identity block, then the head.
  const auto m = model("t", input(3, 32, 32), conv2d(16, 3, pad(1)), relu,
                       residual(sequence(conv2d(32, 3, stride(2), pad(1)), relu,
                                         conv2d(32, 3, pad(1))),
                                conv2d(32, 1, stride(2))),
                       relu, residual(sequence(conv2d(32, 3, pad(1)), relu, conv2d(32, 3, pad(1)))),
                       relu, avg_pool(16), flatten, dense(10), softmax_cross_entropy);
  // 0 input, 1 conv1, 2 relu1, 3 conv2, 4 relu2, 5 conv3, 6 conv4 (shortcut), 7 add1,
  // 8 relu3, 9 conv5, 10 relu4, 11 conv6, 12 add2, 13 relu5, 14 avg_pool1, 15 flatten1,
  // 16 fc1, 17 softmax_cross_entropy1
  REQUIRE(m.size() == 18);
  CHECK(m.error == ShapeError{});
  CHECK(m[6].inputs == reads(2));
  CHECK(m[7].inputs == reads(5, 6));
  CHECK(m[12].inputs == reads(11, 8));
  CHECK(m[7].shape == shape(32, 16, 16));
  CHECK(m[14].shape == shape(32, 1, 1));
  CHECK(m[16].name.view() == "fc1");
  CHECK(m.output_node() == 16);
  CHECK(m.loss_node() == 17);
}

namespace {
// heads(...): each branch wired to the block's entry; the join reads what each branch's
// loss reads, ends the model and is its output, the heads flattened and joined.
//   0 input 3x8x8, 1 conv1, 2 conv2 (head 1), 3 target_loss1, 4 flatten1, 5 fc1 (head 2),
//   6 target_loss2, 7 heads1 = join of 2 and 5
constexpr auto two_headed = model("t", input(3, 8, 8), conv2d(4, 3, pad(1)),
    heads(sequence(conv2d(2, 1), target_loss({LossKind::logistic})),
          sequence(flatten, dense(3), target_loss({LossKind::squared}))));
static_assert(two_headed.error.problem == Problem::none);
static_assert(two_headed.size() == 8);
static_assert(two_headed[2].inputs == reads(1) && two_headed[3].inputs == reads(2));
static_assert(two_headed[4].inputs == reads(1) && two_headed[6].inputs == reads(5));
static_assert(two_headed[7].op == Op::heads && two_headed[7].inputs == reads(2, 5));
static_assert(two_headed.output_node() == 7 && two_headed.output_shape() == shape(2 * 8 * 8 + 3));
static_assert(two_headed.loss_node() == 3 && two_headed.uses_targets());
}  // namespace

namespace {
// roi_align: (C, H, W) features to a sequence of R regions of C P P bins, which dense
// layers read per region.
constexpr auto region_head = model("t", input(4, 8, 8), roi_align(6, 2, 0.5f), dense(5));
static_assert(region_head.error.problem == Problem::none);
static_assert(region_head[1].shape == shape(6, 4 * 2 * 2) && region_head[2].shape == shape(6, 5));
}  // namespace

namespace {
// spatial_transformer(localization, H, W): the localization reads the block's entry; the
// sampler reads the entry and the localization's 6 offsets.
//   0 input 1x12x12, 1 flatten1, 2 fc1 (6), 3 transformer1 (1x8x8), 4 flatten2, 5 fc2
constexpr auto transformed = model("t", input(1, 12, 12),
    spatial_transformer(sequence(flatten, dense(6)), 8, 8), flatten, dense(10));
static_assert(transformed.error.problem == Problem::none);
static_assert(transformed[1].inputs == reads(0) && transformed[3].op == Op::affine_sample);
static_assert(transformed[3].inputs == reads(0, 2) && transformed[3].name == Label("transformer1"));
static_assert(transformed[3].shape == shape(1, 8, 8) && transformed[4].inputs == reads(3));
// Without a size, the input's.
static_assert(model("t", input(2, 5, 7), spatial_transformer(sequence(flatten, dense(6))))[3].shape == shape(2, 5, 7));

// decoder(tokens(T, V), parts...): the words are a second input node, named "words"; its
// parts chain from it; the attention_lstm also reads the block's entry (the grid).
//   0 input 3x8x8, 1 conv1 (4x8x8), 2 words (5x1), 3 embedding1, 4 decoder, 5 fc1, 6 loss
constexpr auto captioning = model("t", input(3, 8, 8), conv2d(4, 3, pad(1)),
    decoder(tokens(5, 7), embedding(3), attention_lstm(6).named("decoder")), dense(7), softmax_cross_entropy);
static_assert(captioning.error.problem == Problem::none);
static_assert(captioning[2].op == Op::input && captioning[2].name == Label("words") && captioning[2].inputs == reads(no_input));
static_assert(captioning[3].inputs == reads(2) && captioning[4].inputs == reads(3, 1));
static_assert(captioning[4].context == 4 && captioning[4].shape == shape(5, 6 + 4));
static_assert(captioning.output_shape() == shape(5, 7));
static_assert(captioning.side_input().kind == SideKind::words && captioning.side_input().rows == 5 &&
              captioning.side_input().node == 2 && captioning.side_input().vocabulary == 7);
// Its parameters: nn.LSTMCell(E + C, H)'s four with the _l0 names, then the keys' weight.
constexpr auto caption_table = captioning.parameter_table();
static_assert(caption_table[3].name == Label("decoder.weight_ih_l0") && caption_table[3].shape == shape(24, 3 + 4));
static_assert(caption_table[4].name == Label("decoder.weight_hh_l0") && caption_table[4].shape == shape(24, 6));
static_assert(caption_table[7].name == Label("decoder.key.weight") && caption_table[7].shape == shape(6, 4));
static_assert(caption_table[8].name == Label("fc1.weight"));
static_assert(captioning.parameter_count() == 4 * 27 + 4 + 7 * 3 + 24 * 7 + 24 * 6 + 48 + 24 + 7 * 10 + 7);
}  // namespace
