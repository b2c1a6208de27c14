// heads(...) joins the model's heads into its output: nothing may follow it.
// expect-first: kiln::shape_error::heads_must_end_the_model<
// expect: static assertion failed: heads(...): joins the model's heads into its output, so it must be the model's last part
#include "dsl/kiln.hpp"

using namespace kiln;
using enum LossKind;

inline constexpr auto net = checked<model("net", input(3, 8, 8),
    conv2d(4, 3, pad(1)), relu,
    heads(sequence(conv2d(2, 1), target_loss({logistic})),
          sequence(flatten, dense(3), target_loss({squared})))
#ifdef KILN_BAD
    , relu
#endif
    )>;
