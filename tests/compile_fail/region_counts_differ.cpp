// A roi_align and a roi_pool that expect region lists of different lengths: the batch
// carries one list per image, which every region layer reads.
// expect-first: kiln::shape_error::region_counts_differ<
// expect: static assertion failed: roi_align / roi_pool: every region layer of a model reads the same list of regions
#include "dsl/kiln.hpp"

using namespace kiln;
using enum LossKind;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(4, 3, pad(1)),
    heads(sequence(roi_align(6, 2, 1.0f), dense(3), target_loss({logistic})),
#ifdef KILN_BAD
          sequence(roi_pool(5, 2, 1.0f), dense(2), target_loss({squared})))
#else
          sequence(roi_pool(6, 2, 1.0f), dense(2), target_loss({squared})))
#endif
    )>;
