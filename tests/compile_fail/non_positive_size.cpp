// A conv2d with stride 0. The error shows the input and the 3x3 window, not the stride.
// expect-first: kiln::shape_error::sizes_must_be_positive<1, kiln::Label{"conv1"}, kiln::Shape{3, int [4]{3, 8, 8, 0}}, kiln::Shape{2, int [4]{3, 3, 0, 0}}>
// expect: static assertion failed: kiln layer: channels, units, kernel and stride must be positive and padding non-negative
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8),
#ifdef KILN_BAD
    conv2d(16, 3, stride(0)),
#else
    conv2d(16, 3, stride(1)),
#endif
    relu)>;
