// Classification with localization of the procedural scenes (runtime/scenes.hpp) that
// hold one object: 3 x 64 x 64 images in; out, beside each other, the class head (one
// logistic score per class) and the box regression head (x0, y0, x1, y1 in units of
// 8 pixels, smooth-L1), both read from the same 128 features (runtime/localization.hpp).
// Four conv stages pool the image to 4 x 4 before the fully connected layers.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

namespace localizer_head {
using enum LossKind;
// circle, square, triangle; then x0, y0, x1, y1.
inline constexpr LossKind kinds[] = {logistic, logistic, logistic, smooth_l1, smooth_l1, smooth_l1, smooth_l1};
}  // namespace localizer_head

inline constexpr auto localizer_shapes = checked<model("localizer_shapes",
    input(3, 64, 64),
    conv2d(16, 3, pad(1)), relu, max_pool(2),  // 16 x 32^2
    conv2d(32, 3, pad(1)), relu, max_pool(2),  // 32 x 16^2
    conv2d(64, 3, pad(1)), relu, max_pool(2),  // 64 x 8^2
    conv2d(64, 3, pad(1)), relu, max_pool(2),  // 64 x 4^2
    flatten, dense(128), relu,
    dense(7).named("head"),                    // 3 class scores, 4 box numbers
    target_loss(localizer_head::kinds, 0.1f))>;

static_assert(localizer_shapes.output_shape() == shape(7));

// Single-object scenes made on the fly; Adam, cosine decay.
inline constexpr Recipe localizer_recipe{.dataset = "scene_object", .epochs = 100, .batch = 32,
                                         .learning_rate = 2e-3f, .optimizer = "adam",
                                         .lr_schedule = "cosine"};

}  // namespace kiln::models
