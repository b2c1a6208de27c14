// A spatial transformer whose localization gives 4 numbers: the affine map takes 6.
// expect-first: kiln::shape_error::transformer_expects_an_image_and_six_offsets<
// expect: static assertion failed: spatial_transformer / affine_sample: samples a (C, H, W) image on an affine grid
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 12, 12),
#ifdef KILN_BAD
    spatial_transformer(sequence(flatten, dense(4)), 8, 8),
#else
    spatial_transformer(sequence(flatten, dense(6)), 8, 8),
#endif
    flatten, dense(10), softmax_cross_entropy)>;
