// A second input(...) in the middle of a model: beside the first, a model reads only a
// decoder's words (a later input node is named "words" for them).
// expect-first: kiln::shape_error::input_only_as_first_layer<2, kiln::Label{"words"}, kiln::Shape{0, int [4]()}>
// expect: static assertion failed: kiln::model: input(...) may only be the first layer
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(4), dense(3),
#ifdef KILN_BAD
    input(3),
#endif
    dense(1))>;
