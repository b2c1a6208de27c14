// LeNet-5's C5 layer (a 5x5 conv over a 5x5 map) after dropping C1's padding: the maps
// shrink to 4x4 and the 5x5 window of the third conv no longer fits.
//   pad(2): 28 -> 28 -> 14 -> 10 -> 5 -> 1;  no pad: 28 -> 24 -> 12 -> 8 -> 4 -> error
// expect-first: kiln::shape_error::window_larger_than_padded_input<5, kiln::Label{"conv3"}, kiln::Shape{3, int [4]{16, 4, 4, 0}}, kiln::Shape{2, int [4]{5, 5, 0, 0}}>
// expect: static assertion failed: conv2d/pool: the window (for conv2d its dilated span d (K - 1) + 1) does not fit the (padded) input; pad more, use a smaller kernel or dilation, or drop an earlier pooling
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 28, 28),
#ifdef KILN_BAD
    conv2d(6, 5),
#else
    conv2d(6, 5, pad(2)),
#endif
    max_pool(2), conv2d(16, 5), max_pool(2), conv2d(120, 5))>;
