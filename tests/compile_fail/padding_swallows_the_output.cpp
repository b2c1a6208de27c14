// A transposed conv padded by more than its output holds: (1 - 1) 1 + 2 - 2 * 1 = 0 rows.
// expect-first: kiln::shape_error::padding_swallows_the_output<2, kiln::Label{"deconv1"}, kiln::Shape{3, int [4]{8, 1, 1, 0}}, kiln::Shape{4, int [4]{2, 2, 1, 1}}>
// expect: static assertion failed: conv_transpose2d: (H - 1) stride + kernel - 2 pad must be positive
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 1, 1), conv2d(8, 1),
#ifdef KILN_BAD
    conv_transpose2d(4, 2, pad(1)),
#else
    conv_transpose2d(4, 2),
#endif
    conv2d(3, 1), pixel_softmax_cross_entropy)>;
