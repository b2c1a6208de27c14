// Shape inference: windowed layers give (N - F + 2P) / S + 1 per axis, rounded down as
// PyTorch does; the other layers keep or reshape their input. Every expected value
// below was worked out by hand from that formula, not from the DSL.
#include <catch2/catch.hpp>

#include "dsl/kiln.hpp"
#include "printers.hpp"

namespace {
using namespace kiln;

// The shape `layer` gives when it reads a model input `in`.
constexpr Shape after(Node in, Node layer) { return model("t", in, layer).nodes[1].shape; }

// conv2d: (out_channels, (H - F + 2P) / S + 1, (W - F + 2P) / S + 1)
static_assert(after(input(1, 28, 28), conv2d(8, 5)) == shape(8, 24, 24));
static_assert(after(input(3, 32, 32), conv2d(16, 3, pad(1))) == shape(16, 32, 32));
// (32 - 5) / 2 + 1 = 13 + 1: the half step is dropped.
static_assert(after(input(3, 32, 32), conv2d(8, 5, stride(2))) == shape(8, 14, 14));
// ResNet stem: (224 - 7 + 6) / 2 + 1 = 112.
static_assert(after(input(3, 224, 224), conv2d(64, 7, stride(2), pad(3))) ==
              shape(64, 112, 112));
// Options may come in any order.
static_assert(after(input(3, 224, 224), conv2d(64, 7, pad(3), stride(2))) ==
              shape(64, 112, 112));
// Non-square kernel, stride and padding, each on its own axis:
// H = (20 - 3 + 2) / 2 + 1 = 10, W = (30 - 5 + 0) / 1 + 1 = 26.
static_assert(after(input(3, 20, 30), conv2d(16, kernel(3, 5), stride(2, 1), pad(1, 0))) ==
              shape(16, 10, 26));
// A 1x7 kernel shrinks only W: catches a kernel whose h and w are swapped.
static_assert(after(input(2, 9, 9), conv2d(4, kernel(1, 7))) == shape(4, 9, 3));
// The window may cover the whole padded input: (3 - 5 + 2) / 1 + 1 = 1.
static_assert(after(input(1, 3, 3), conv2d(1, 5, pad(1))) == shape(1, 1, 1));

// Pooling keeps the channels; its stride defaults to its window.
static_assert(after(input(6, 28, 28), max_pool(2)) == shape(6, 14, 14));
static_assert(after(input(16, 5, 5), max_pool(2)) == shape(16, 2, 2));  // (5 - 2) / 2 + 1
static_assert(after(input(64, 112, 112), max_pool(3, stride(2), pad(1))) == shape(64, 56, 56));
static_assert(after(input(512, 7, 7), avg_pool(7)) == shape(512, 1, 1));
static_assert(after(input(4, 6, 6), avg_pool(3, stride(1))) == shape(4, 4, 4));
// H = (8 - 2) / 2 + 1 = 4, W = (8 - 2) / 1 + 1 = 7.
static_assert(after(input(3, 8, 8), avg_pool(2, stride(2, 1))) == shape(3, 4, 7));
// H = (5 - 3 + 0) / 1 + 1 = 3, W = (5 - 3 + 2) / 1 + 1 = 5.
static_assert(after(input(2, 5, 5), max_pool(3, stride(1), pad(0, 1))) == shape(2, 3, 5));

// The rest: dense gives (units), flatten multiplies out, activations keep the shape,
// the loss gives one value per sample.
static_assert(after(input(16, 5, 5), flatten) == shape(400));
static_assert(after(input(400), dense(120)) == shape(120));
static_assert(after(input(6, 14, 14), relu) == shape(6, 14, 14));
static_assert(after(input(7), sigmoid) == shape(7));
static_assert(after(input(3, 2, 2), kiln::tanh) == shape(3, 2, 2));
static_assert(after(input(10), softmax_cross_entropy) == shape(1));
static_assert(after(input(6, 14, 14), leaky_relu()) == shape(6, 14, 14));
static_assert(after(input(7), elu(0.5f)) == shape(7));
static_assert(after(input(5, 3, 2), prelu()) == shape(5, 3, 2));
static_assert(after(input(9), prelu()) == shape(9));
// global_avg_pool: (C, H, W) -> (C), flat, whatever H and W are.
static_assert(after(input(6, 14, 12), global_avg_pool) == shape(6));
static_assert(after(input(3, 1, 1), global_avg_pool) == shape(3));

// Shape itself.
static_assert(shape(16, 5, 5).elements() == 400);
static_assert(shape(3, 4, 5, 6).elements() == 360);
static_assert(shape(16, 5, 5).is_image() && !shape(16, 5, 5).is_flat());
static_assert(shape(400).is_flat() && !shape(400).is_image());
static_assert(shape(6, 14, 12).channels() == 6 && shape(6, 14, 12).height() == 14 &&
              shape(6, 14, 12).width() == 12);
static_assert(shape(3, 4, 5) != shape(3, 5, 4));
static_assert(shape(12) != shape(12, 1));  // same elements, different rank

}  // namespace

TEST_CASE("dsl shapes: a chain of windows, computed when the program runs") {
  // The same inference at run time, so a failure prints the values.
  const auto m = model("t", input(3, 64, 48), conv2d(32, kernel(5, 3), stride(2), pad(2, 1)),
                       max_pool(2), conv2d(10, 3, stride(1, 2)));
  // conv1: H = (64 - 5 + 4) / 2 + 1 = 32, W = (48 - 3 + 2) / 2 + 1 = 24
  CHECK(m[1].shape == shape(32, 32, 24));
  CHECK(m[2].shape == shape(32, 16, 12));
  // conv2: H = (16 - 3) / 1 + 1 = 14, W = (12 - 3) / 2 + 1 = 5
  CHECK(m[3].shape == shape(10, 14, 5));
  CHECK(m.error.problem == Problem::none);
  CHECK(m.output_shape() == shape(10, 14, 5));
  CHECK(m.input_shape() == shape(3, 64, 48));
}
