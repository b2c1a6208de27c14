// A 3x3 kernel at dilation 3 spans 7 pixels: it no longer fits a 6x6 map padded by 0.
// The error reports the span, (7, 7), not the kernel's 3x3.
// expect-first: kiln::shape_error::window_larger_than_padded_input<2, kiln::Label{"conv2"}, kiln::Shape{3, int [4]{4, 6, 6, 0}}, kiln::Shape{2, int [4]{7, 7, 0, 0}}>
// expect: static assertion failed: conv2d/pool: the window (for conv2d its dilated span d (K - 1) + 1) does not fit the (padded) input
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 8, 8), conv2d(4, 3),
#ifdef KILN_BAD
    conv2d(4, 3, dilation(3)),
#else
    conv2d(4, 3, dilation(2)),
#endif
    flatten, dense(10))>;
