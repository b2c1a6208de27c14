// conv2d's dilation, groups and no_bias, dense's no_bias, and maxout: shapes, parameter
// tables and the problems they record. Expected values are worked out by hand from
// PyTorch's formulas: out = (H + 2p - d (K - 1) - 1) / s + 1; a grouped conv's weight is
// [O, C / g, KH, KW]; maxout(k) divides the channels (features) by k.
#include <catch2/catch.hpp>

#include "dsl/kiln.hpp"
#include "printers.hpp"

namespace {
using namespace kiln;

constexpr Shape after(Node in, Node layer) { return model("t", in, layer).nodes[1].shape; }
constexpr ShapeError error(Problem p, int layer, Label name, Shape got, Shape other = {}) {
  return ShapeError{p, layer, name, got, other};
}

// Dilation: a 3x3 kernel with d = 2 spans 5: (32 - 4 - 1) / 1 + 1 = 28.
static_assert(after(input(3, 32, 32), conv2d(8, 3, dilation(2))) == shape(8, 28, 28));
// pad d (K - 1) / 2 keeps the size: (32 + 4 - 5) + 1 = 32.
static_assert(after(input(3, 32, 32), conv2d(8, 3, dilation(2), pad(2))) == shape(8, 32, 32));
// Per axis: H spans 5, W spans 3: (10 - 5) + 1 = 6, (10 - 3) + 1 = 8.
static_assert(after(input(2, 10, 10), conv2d(4, 3, dilation(2, 1))) == shape(4, 6, 8));
// With stride and padding: (9 + 2 - 4 - 1) / 2 + 1 = 4.
static_assert(after(input(2, 9, 9), conv2d(4, 3, dilation(2), stride(2), pad(1))) ==
              shape(4, 4, 4));
// Dilation changes no parameter count: 3*3*3*8 + 8.
static_assert(model("t", input(3, 32, 32), conv2d(8, 3, dilation(3))).parameter_count() == 224);

// Groups keep the spatial formula and divide the weight's input channels.
static_assert(after(input(4, 8, 8), conv2d(6, 3, groups(2))) == shape(6, 6, 6));
static_assert(model("t", input(4, 8, 8), conv2d(6, 3, groups(2))).parameter_count() ==
              6 * 2 * 3 * 3 + 6);
// Depthwise (g = C): one 3x3 filter per channel, MobileNet style.
static_assert(model("t", input(32, 10, 10), conv2d(32, 3, groups(32), pad(1))).parameter_count() ==
              32 * 9 + 32);
// Depthwise with a channel multiplier of 2: O = 2C.
static_assert(model("t", input(8, 10, 10), conv2d(16, 3, groups(8))).parameter_count() ==
              16 * 9 + 16);
constexpr auto grouped_table = model("t", input(4, 8, 8), conv2d(6, kernel(3, 5), groups(2), pad(0, 1)))
                                   .parameter_table();
static_assert(grouped_table[0].shape == shape(6, 2, 3, 5));
static_assert(grouped_table[0].fan_in == 2 * 3 * 5);       // C / g KH KW, as PyTorch
static_assert(grouped_table[0].fan_out == 6 * 3 * 5);      // O KH KW, as PyTorch
static_assert(grouped_table[1].shape == shape(6) && grouped_table[1].offset == 180);
// Storage stays [KH][KW][C / g][O]: PyTorch's (o, ci, ky, kx) at ((ky KW + kx) C/g + ci) O + o.
static_assert(grouped_table[0].flat_index(((5 * 2 + 1) * 3 + 2) * 5 + 4) ==
              ((2 * 5 + 4) * 2 + 1) * 6 + 5);

// no_bias: the layer owns its weight alone, and the next tensor follows it directly.
constexpr auto no_bias_model = model("t", input(3, 8, 8), conv2d(4, 3, no_bias), relu, flatten,
                                     dense(5, no_bias), dense(2));
static_assert(no_bias_model.error == ShapeError{});
static_assert(no_bias_model.parameter_tensor_count() == 4);
static_assert(no_bias_model.parameter_count() == 4 * 3 * 9 + 5 * 144 + 2 * 5 + 2);
constexpr auto no_bias_table = no_bias_model.parameter_table();
static_assert(no_bias_table[0].name == Label("conv1.weight") && no_bias_table[0].node == 1);
static_assert(no_bias_table[1].name == Label("fc1.weight") && no_bias_table[1].offset == 108);
static_assert(no_bias_table[2].name == Label("fc2.weight") && no_bias_table[2].offset == 828);
static_assert(no_bias_table[3].name == Label("fc2.bias") && no_bias_table[3].offset == 838);
static_assert(no_bias_table[4].node == -1);  // unused slot
// A ResNet-style stem: 7x7 s2 p3 conv without bias, 64 channels: 7*7*3*64.
static_assert(model("t", input(3, 224, 224), conv2d(64, 7, stride(2), pad(3), no_bias))
                  .parameter_count() == 9408);

// maxout(k): channels (or features) divided by k, nothing learned.
static_assert(after(input(6, 4, 5), maxout(3)) == shape(2, 4, 5));
static_assert(after(input(12), maxout(4)) == shape(3));
static_assert(after(input(5, 2, 2), maxout(1)) == shape(5, 2, 2));
static_assert(model("t", input(12), dense(8), maxout(2), dense(3)).parameter_count() ==
              12 * 8 + 8 + 4 * 3 + 3);

// The problems, with the values that reach the message.
// O = 6 is not a multiple of g = 4 (C = 4 is): other = (C, O, g).
static_assert(model("t", input(4, 8, 8), conv2d(6, 3, groups(4))).error ==
              error(Problem::channels_not_divisible_by_groups, 1, "conv1", shape(4, 8, 8),
                    shape(4, 6, 4)));
// C = 3 is not a multiple of g = 2.
static_assert(model("t", input(3, 8, 8), conv2d(4, 3, groups(2))).error ==
              error(Problem::channels_not_divisible_by_groups, 1, "conv1", shape(3, 8, 8),
                    shape(3, 4, 2)));
static_assert(model("t", input(6, 4, 5), maxout(4)).error ==
              error(Problem::maxout_channels_not_divisible, 1, "maxout1", shape(6, 4, 5),
                    shape(4)));
static_assert(model("t", input(10), maxout(3)).error ==
              error(Problem::maxout_channels_not_divisible, 1, "maxout1", shape(10), shape(3)));
// A dilated window is reported by its span: 3x3 at d = 2 spans 5 > 4; 5 fits exactly.
static_assert(model("t", input(1, 5, 5), conv2d(1, 3, dilation(2))).error == ShapeError{});
static_assert(model("t", input(1, 4, 4), conv2d(1, 3, dilation(2))).error ==
              error(Problem::window_larger_than_padded_input, 1, "conv1", shape(1, 4, 4),
                    shape(5, 5)));
// Per axis: kernel (3, 2) at dilation (4, 3) spans (9, 4) and fits 9 x 4; at (4, 4) it
// spans (9, 5) and does not.
static_assert(model("t", input(1, 9, 4), conv2d(1, kernel(3, 2), dilation(4, 3))).error ==
              ShapeError{});
static_assert(model("t", input(1, 9, 4), conv2d(1, kernel(3, 2), dilation(4, 4))).error ==
              error(Problem::window_larger_than_padded_input, 1, "conv1", shape(1, 9, 4),
                    shape(9, 5)));
static_assert(model("t", input(2, 8, 8), conv2d(2, 3, dilation(0))).error.problem ==
              Problem::non_positive_size);
static_assert(model("t", input(2, 8, 8), conv2d(2, 3, groups(0))).error.problem ==
              Problem::non_positive_size);
static_assert(model("t", input(4), maxout(0)).error.problem == Problem::non_positive_size);

TEST_CASE("dsl: dilation, groups, no_bias and maxout as run-time values", "[dsl]") {
  // The same checks through Catch, so a failure prints the values.
  CHECK(after(input(2, 10, 10), conv2d(4, 3, dilation(2, 1))) == shape(4, 6, 8));
  CHECK(grouped_table[0].shape == shape(6, 2, 3, 5));
  CHECK(model("t", input(6, 4, 5), maxout(4)).error ==
        error(Problem::maxout_channels_not_divisible, 1, "maxout1", shape(6, 4, 5), shape(4)));
}

}  // namespace
