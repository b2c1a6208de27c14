// global_avg_pool after flatten: the (4, 6, 6) image has become a (144) vector.
// expect-first: kiln::shape_error::global_avg_pool_expects_an_image_input<3, kiln::Label{"global_avg_pool1"}, kiln::Shape{1, int [4]{144, 0, 0, 0}}>
// expect: static assertion failed: global_avg_pool: expects a (C, H, W) input and gives (C) itself; do not flatten before it
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(4, 3),
#ifdef KILN_BAD
    flatten, global_avg_pool,
#else
    global_avg_pool,
#endif
    dense(2))>;
