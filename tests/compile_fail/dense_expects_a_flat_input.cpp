// A dense layer straight after pooling: the user forgot flatten.
// expect-first: kiln::shape_error::dense_expects_a_flat_input<4, kiln::Label{"fc1"}, kiln::Shape{3, int [4]{6, 12, 12, 0}}>
// expect: static assertion failed: dense: expects a flat (F) input or a (T, F) sequence; insert flatten before it
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 28, 28), conv2d(6, 5), relu, max_pool(2),
#ifndef KILN_BAD
    flatten,
#endif
    dense(10))>;
