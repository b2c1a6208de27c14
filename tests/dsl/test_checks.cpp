// Checks that were once missing from the DSL: sizes of the input, a loss read by any
// input of a later node, and names shared by two layers.
#include <catch2/catch.hpp>

#include "dsl/kiln.hpp"
#include "printers.hpp"

namespace {
using namespace kiln;
}  // namespace

TEST_CASE("dsl: input sizes must be positive", "[dsl]") {
  // input() is never checked: a negative size gives a negative parameter count and a
  // zero size gives a weight with no elements, both without an error.
  constexpr auto negative = model("t", input(-3), dense(10));
  constexpr auto empty = model("t", input(0, 8, 8), conv2d(4, 3));
  CHECK(negative.error.problem == Problem::non_positive_size);
  CHECK(empty.error.problem == Problem::non_positive_size);
  CHECK(negative.parameter_count() >= 0);  // today: 10 * -3 + 10 = -20
}

TEST_CASE("dsl: a loss read as a block's second input is not the last layer",
          "[dsl]") {
  // loss_must_be_last only looks at a node's first input. Here the shortcut ends in a
  // loss whose (1) output matches the body's dense(1), so the add is accepted, and
  // loss_node()/output_node() then point inside the block (3 and 2).
  constexpr auto m = model("t", input(4),
                           residual(dense(1), sequence(dense(3), softmax_cross_entropy)));
  CHECK(m.error.problem == Problem::loss_must_be_last);
}

TEST_CASE("dsl: two layers with one name give two parameters with one name",
          "[dsl]") {
  // The second dense is named fc2 by default, the first by hand: the table holds
  // fc2.weight twice, which a checkpoint cannot store. No Problem covers this yet.
  constexpr auto m = model("t", input(4), dense(3).named("fc2"), dense(2));
  CHECK(m.error.problem != Problem::none);
}

TEST_CASE("dsl: pooling padding may be at most half the window, as in PyTorch", "[dsl]") {
  constexpr auto half = model("t", input(1, 8, 8), max_pool(3, stride(2), pad(1)));
  constexpr auto over = model("t", input(1, 8, 8), avg_pool(2, pad(2)));
  constexpr auto conv = model("t", input(1, 8, 8), conv2d(2, 3, pad(2)));  // convs may pad more
  CHECK(half.error.problem == Problem::none);
  CHECK(over.error.problem == Problem::pool_padding_over_half_the_window);
  CHECK(over.error.other == shape(2, 2, 2, 2));
  CHECK(conv.error.problem == Problem::none);
}
