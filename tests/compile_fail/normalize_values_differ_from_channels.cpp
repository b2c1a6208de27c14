// ImageNet's three means and deviations on a one-channel (grey) input; the good variant
// gives one value of each, which applies to every channel.
// expect-first: kiln::shape_error::normalize_values_differ_from_channels<1, kiln::Label{"normalize1"}, kiln::Shape{3, int [4]{1, 28, 28, 0}}, kiln::Shape{1, int [4]{3, 0, 0, 0}}>
// expect: static assertion failed: normalize(mean, std): expects a (C, H, W) input and one value (every channel) or C values of each; every std must be positive
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(1, 28, 28),
#ifdef KILN_BAD
    normalize({0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}),
#else
    normalize({0.1307f}, {0.3081f}),
#endif
    conv2d(4, 3), relu, flatten, dense(10), softmax_cross_entropy)>;
