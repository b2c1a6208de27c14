// maxout(3) over 8 channels: the pieces do not come out even.
// expect-first: kiln::shape_error::maxout_channels_not_divisible<2, kiln::Label{"maxout1"}, kiln::Shape{3, int [4]{8, 6, 6, 0}}, kiln::Shape{1, int [4]{3, 0, 0, 0}}>
// expect: static assertion failed: maxout(k): the input's channels (features, if flat) must be a multiple of k; change k or the layer before
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 8, 8), conv2d(8, 3),
#ifdef KILN_BAD
    maxout(3),
#else
    maxout(2),
#endif
    flatten, dense(10))>;
