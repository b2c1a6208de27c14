// A conv2d after flatten: the image has become a (784) vector.
// expect-first: kiln::shape_error::conv2d_expects_an_image_input<2, kiln::Label{"conv1"}, kiln::Shape{1, int [4]{784, 0, 0, 0}}>
// expect: static assertion failed: conv2d: expects a (C, H, W) input; do not flatten before it
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 28, 28),
#ifdef KILN_BAD
    flatten,
#endif
    conv2d(6, 5), relu, flatten, dense(10))>;
