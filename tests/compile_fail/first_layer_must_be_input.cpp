// A model that starts with a layer: nothing says what shape enters it.
// expect-first: kiln::shape_error::first_layer_must_be_input<0, kiln::Label{"conv1"}, kiln::Shape{0, int [4]()}>
// expect: static assertion failed: kiln::model: start the model with input(C, H, W) or input(F)
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net",
#ifndef KILN_BAD
    input(3, 8, 8),
#endif
    conv2d(6, 5), relu)>;
