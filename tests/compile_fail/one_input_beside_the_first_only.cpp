// A captioner's decoder beside a region layer: the batch carries one input beside the
// images, either a decoder's words or the region list, not both.
// expect-first: kiln::shape_error::one_input_beside_the_first_only<
// expect: static assertion failed: kiln::model: a model reads at most one input beside its first
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(4, 3, pad(1)),
#ifdef KILN_BAD
    roi_pool(2, 2, 1.0f), kiln::tanh,
#endif
    decoder(tokens(5, 7), embedding(3), lstm(4)), dense(7), softmax_cross_entropy)>;
