// A fully convolutional head whose (10, 1, 1) output goes to the loss unflattened.
// expect-first: kiln::shape_error::softmax_cross_entropy_expects_flat_logits<2, kiln::Label{"softmax_cross_entropy1"}, kiln::Shape{3, int [4]{10, 1, 1, 0}}>
// expect: static assertion failed: softmax_cross_entropy: expects flat (classes) logits, or per-step (T, classes) logits of a sequence; end the model with dense(classes)
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(10, 8),
#ifndef KILN_BAD
    flatten,
#endif
    softmax_cross_entropy)>;
