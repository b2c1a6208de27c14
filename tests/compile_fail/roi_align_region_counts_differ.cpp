// Two roi_align layers that expect region lists of different lengths: the batch carries
// one list per image, which every roi_align reads.
// expect-first: kiln::shape_error::roi_align_region_counts_differ<
// expect: static assertion failed: roi_align: every roi_align of a model reads the same list of regions
#include "dsl/kiln.hpp"

using namespace kiln;
using enum LossKind;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(4, 3, pad(1)),
    heads(sequence(roi_align(6, 2, 1.0f), dense(3), target_loss({logistic})),
#ifdef KILN_BAD
          sequence(roi_align(5, 2, 1.0f), dense(2), target_loss({squared})))
#else
          sequence(roi_align(6, 2, 1.0f), dense(2), target_loss({squared})))
#endif
    )>;
