// An inception-style concat whose 3x3 branch lacks padding: 8x8 and 6x6 maps.
// expect-first: kiln::shape_error::concat_inputs_differ_in_height_or_width<3, kiln::Label{"concat1"}, kiln::Shape{3, int [4]{8, 8, 8, 0}}, kiln::Shape{3, int [4]{8, 6, 6, 0}}>
// expect: static assertion failed: concat: every branch must give a (C, H, W) output of the same H and W; match strides and padding
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(16, 8, 8),
#ifdef KILN_BAD
    concat(conv2d(8, 1), conv2d(8, 3)),
#else
    concat(conv2d(8, 1), conv2d(8, 3, pad(1))),
#endif
    relu)>;
