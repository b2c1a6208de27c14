// A residual block whose body widens 16 to 32 channels, with the identity shortcut: the
// add gets (32, 8, 8) from the body and (16, 8, 8) from the shortcut. The good variant
// gives the shortcut a 1x1 projection.
// expect-first: kiln::shape_error::add_inputs_differ_in_shape<3, kiln::Label{"add1"}, kiln::Shape{3, int [4]{32, 8, 8, 0}}, kiln::Shape{3, int [4]{16, 8, 8, 0}}>
// expect: static assertion failed: residual add: both inputs must have the same shape; give the shortcut a projection (conv2d 1x1 with the body's stride and channels)
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(16, 8, 8),
#ifdef KILN_BAD
    residual(sequence(conv2d(32, 3, pad(1)), relu)),
#else
    residual(sequence(conv2d(32, 3, pad(1)), relu), conv2d(32, 1)),
#endif
    relu)>;
