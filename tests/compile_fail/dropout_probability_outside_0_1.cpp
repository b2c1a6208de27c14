// dropout(1.0f) would zero everything and divide by zero; the good variant drops half.
// expect-first: kiln::shape_error::dropout_probability_outside_0_1<3, kiln::Label{"dropout1"}, kiln::Shape{1, int [4]{20, 0, 0, 0}}>
// expect: static assertion failed: dropout(p): p is the probability of zeroing an element, 0 <= p < 1
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(10), dense(20), relu,
#ifdef KILN_BAD
    dropout(1.0f),
#else
    dropout(0.5f),
#endif
    dense(3), softmax_cross_entropy)>;
