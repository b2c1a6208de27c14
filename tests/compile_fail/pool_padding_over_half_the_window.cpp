// A 2x2 max pool padded by 2: some windows would hold nothing but padding.
// expect-first: kiln::shape_error::pool_padding_over_half_the_window<2, kiln::Label{"max_pool1"}, kiln::Shape{3, int [4]{4, 8, 8, 0}}, kiln::Shape{4, int [4]{2, 2, 2, 2}}>
// expect: static assertion failed: max_pool/avg_pool: padding may be at most half the window (as in PyTorch); pad less or use a larger window
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 8, 8), conv2d(4, 3, pad(1)),
#ifdef KILN_BAD
    max_pool(2, pad(2)),
#else
    max_pool(2, pad(1)),
#endif
    flatten, dense(10))>;
