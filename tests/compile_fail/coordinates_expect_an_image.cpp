// coordinates after flatten: a flat vector has no pixels whose coordinates to append.
// expect-first: kiln::shape_error::coordinates_expect_an_image_input<
// expect: static assertion failed: coordinates: appends the (x, y) of every pixel to a (C, H, W) image
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(4, 3, pad(1)),
#ifdef KILN_BAD
    flatten,
#endif
    coordinates, flatten, dense(2), softmax_cross_entropy)>;
