// A branch of heads(...) that ends in softmax_cross_entropy, not a target_loss.
// expect-first: kiln::shape_error::each_head_needs_exactly_one_reader_its_target_loss<
// expect: static assertion failed: heads(...): end every branch with a target_loss that reads the head's output
#include "dsl/kiln.hpp"

using namespace kiln;
using enum LossKind;

inline constexpr auto net = checked<model("net", input(3, 8, 8),
    conv2d(4, 3, pad(1)), relu,
    heads(sequence(conv2d(2, 1), target_loss({logistic})),
#ifdef KILN_BAD
          sequence(flatten, dense(3), softmax_cross_entropy))
#else
          sequence(flatten, dense(3), target_loss({squared})))
#endif
    )>;
