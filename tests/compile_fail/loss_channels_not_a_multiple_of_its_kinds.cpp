// A detector head whose channels do not repeat target_loss's kinds a whole number of
// times: 2 anchors of 5 kinds need 10 channels, not 9.
// expect-first: kiln::shape_error::target_loss_channels_not_a_multiple_of_its_kinds<4, kiln::Label{"target_loss1"}, kiln::Shape{3, int [4]{9, 4, 4, 0}}, kiln::Shape{1, int [4]{5, 0, 0, 0}}>
// expect: static assertion failed: target_loss(kinds): expects an input whose channels
#include "dsl/kiln.hpp"

using namespace kiln;
using enum LossKind;

inline constexpr auto net = checked<model("net", input(3, 8, 8),
    conv2d(8, 3, stride(2), pad(1)), relu,
#ifdef KILN_BAD
    conv2d(9, 1),
#else
    conv2d(10, 1),
#endif
    target_loss({logistic, logistic, squared, squared, logistic}))>;
