// Several heads on shared features (heads(...) in dsl/blocks.hpp), in the smallest net
// that has them: a dense-prediction head (a 1x1 conv over an 8 x 8 map: objectness and
// box numbers, as a proposal network's) beside a flat head (class scores and a box, as a
// localizer's), each with its own target_loss. Never trained: tests/cli/torch_interop.py
// checks its forward output, loss and gradients against a PyTorch twin.
#pragma once
#include "dsl/kiln.hpp"

namespace kiln::models {
using namespace kiln;

namespace two_heads_kinds {
using enum LossKind;
inline constexpr LossKind dense[] = {logistic, logistic, smooth_l1, smooth_l1, squared};
inline constexpr LossKind flat[] = {logistic, logistic, logistic, smooth_l1, smooth_l1, smooth_l1, smooth_l1};
}  // namespace two_heads_kinds

inline constexpr auto two_heads = checked<model("two_heads",
    input(3, 16, 16),
    conv2d(8, 3, pad(1)), relu, max_pool(2),  // 8 x 8 x 8
    heads(sequence(conv2d(10, 1).named("proposals"), target_loss(two_heads_kinds::dense, 0.5f)),
          sequence(flatten, dense(7).named("detection"), target_loss(two_heads_kinds::flat))))>;

static_assert(two_heads.output_shape() == shape(10 * 8 * 8 + 7));

// The same with a second stage: the flat head reads 4 regions per image (given with the
// batch) cut out of the features by roi_align into 3 x 3 bins, through a hidden layer per
// region (a two-stage detector's box head in small); a third head reads the same regions
// through roi_pool (Fast R-CNN's max pooling) into 2 x 2 bins. Checked like two_heads.
inline constexpr auto two_stage = checked<model("two_stage",
    input(3, 16, 16),
    conv2d(8, 3, pad(1)), relu,  // 8 x 16 x 16
    heads(sequence(conv2d(5, 1).named("proposals"), target_loss({LossKind::logistic, LossKind::smooth_l1,
                                                                 LossKind::smooth_l1, LossKind::smooth_l1,
                                                                 LossKind::smooth_l1})),
          sequence(roi_align(4, 3, 0.5f), dense(16).named("fc"), relu, dense(7).named("detection"),
                   target_loss(two_heads_kinds::flat)),
          sequence(roi_pool(4, 2, 0.5f), dense(3).named("pooled"), target_loss({LossKind::squared}))))>;

static_assert(two_stage.output_shape() == shape(5 * 16 * 16 + 4 * 7 + 4 * 3) && two_stage.region_count() == 4);

}  // namespace kiln::models
