// A Faster R-CNN-style two-stage detector with a mask head (Mask R-CNN's, in small) of
// the procedural scenes (runtime/scenes.hpp): 3 x 128 x 128 images, a backbone that
// pools to a 16 x 16 map (stride 8), then three heads on it (runtime/two_stage.hpp):
//   rpn:   3 anchors per cell, objectness and box deltas (runtime/proposals.hpp);
//   box:   per region of the list given with the batch (24, roi_align into 7 x 7 bins),
//          a score per class and the box deltas toward the object (weights 10, 10, 5, 5);
//   mask:  per region, a 14 x 14 mask of the object in it.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

namespace frcnn_head {
using enum LossKind;
inline constexpr LossKind rpn[] = {logistic, smooth_l1, smooth_l1, smooth_l1, smooth_l1};
inline constexpr LossKind box[] = {logistic, logistic, logistic, smooth_l1, smooth_l1, smooth_l1, smooth_l1};
inline constexpr LossKind mask[] = {logistic};
inline constexpr int regions = 24;
}  // namespace frcnn_head

inline constexpr auto frcnn_shapes = checked<model("frcnn_shapes",
    input(3, 128, 128),
    conv2d(16, 3, pad(1)), relu, max_pool(2),  // 16 x 64^2
    conv2d(32, 3, pad(1)), relu, max_pool(2),  // 32 x 32^2
    conv2d(64, 3, pad(1)), relu, max_pool(2),  // 64 x 16^2
    conv2d(64, 3, pad(1)), relu,
    conv2d(64, 3, pad(2), dilation(2)), relu,
    heads(sequence(conv2d(64, 3, pad(1)).named("rpn_conv"), relu, conv2d(15, 1).named("rpn"),
                   target_loss(frcnn_head::rpn)),
          sequence(roi_align(frcnn_head::regions, 7, 0.125f), dense(128).named("box_fc"), relu,
                   dense(7).named("box_head"), target_loss(frcnn_head::box)),
          sequence(roi_align(frcnn_head::regions, 7, 0.125f), dense(128).named("mask_fc"), relu,
                   dense(196).named("mask_head"), target_loss(frcnn_head::mask))))>;

static_assert(frcnn_shapes.output_shape() == shape(15 * 16 * 16 + 24 * 7 + 24 * 196));

// Scenes made on the fly with their boxes and instance masks; Adam, cosine decay: box mAP@0.5
// 0.924 and mask AP@0.5 0.904 on the 500 held-out scenes after 518 s on the 2-core machine
// (2026-11-29; bench/RESULTS.md).
inline constexpr Recipe frcnn_recipe{.dataset = "scene_masks", .epochs = 30, .batch = 16,
                                     .learning_rate = 1e-3f, .optimizer = "adam",
                                     .lr_schedule = "cosine"};

}  // namespace kiln::models
