// A layer after the loss. The error names the loss (layer 2), the node something reads.
// expect-first: kiln::shape_error::nothing_may_follow_a_loss<2, kiln::Label{"softmax_cross_entropy1"}, kiln::Shape{1, int [4]{1, 0, 0, 0}}>
// expect: static assertion failed: kiln::model: a loss must be the last layer of its branch
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(8), dense(4), softmax_cross_entropy
#ifdef KILN_BAD
    , relu
#endif
    )>;
