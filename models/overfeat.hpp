// OverFeat-style sliding-window detection (Sermanet et al. 2014) of the scenes' shapes:
// a classifier of 32 x 32 windows whose "fully connected" layers are convolutions (fc1
// a 2x2 conv over the 2 x 2 map the pools leave, fc2 a 1x1 conv), trained on windows
// (runtime/shapes.hpp: shape_windows; background, circle, square, triangle), and the
// same layers over a whole 128 x 128 scene, where they give a class score for every
// 32 x 32 window at a stride of 8 pixels (13 x 13 windows) in one pass, sharing the
// convolutions of overlapping windows. The two models have the same layer names, so the
// classifier's weights load into the scanner unchanged. The convs are unpadded and every
// pool starts at an even offset of each window (8 j, 4 j, 2 j), so scan cell (i, j) is
// exactly the classifier's output for the window at (8 j, 8 i): padding inside the
// windows would show the classifier zeros at window edges where the scan sees pixels.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

// The layers both models share, in order (sizes for the 32-pixel window; a 128-pixel
// scene gives 126, 63, 61, 30, 28, 14, 13).
inline constexpr auto overfeat_layers = sequence(
    conv2d(32, 3), relu, max_pool(2),      // 30 -> 15
    conv2d(64, 3), relu, max_pool(2),      // 13 -> 6
    conv2d(64, 3), relu, max_pool(2),      // 4 -> 2
    conv2d(128, 2).named("fc1"), relu,     // 1
    conv2d(4, 1).named("fc2"));

inline constexpr auto overfeat_shapes = checked<model("overfeat_shapes",
    input(3, 32, 32), overfeat_layers, flatten, softmax_cross_entropy)>;
inline constexpr auto overfeat_scan = checked<model("overfeat_scan",
    input(3, 128, 128), overfeat_layers)>;

static_assert(overfeat_shapes.output_shape() == shape(4));
static_assert(overfeat_scan.output_shape() == shape(4, 13, 13));
// Window (i, j) of the scan covers pixels 8 j .. 8 j + 31 across and 8 i .. 8 i + 31 down
// (kiln predict derives both from the model: the layers' strides multiplied, and the
// input less the scan's extent).

inline constexpr Recipe overfeat_recipe{.dataset = "shape_windows", .epochs = 6, .batch = 64,
                                        .learning_rate = 2e-3f, .optimizer = "adam",
                                        .lr_schedule = "cosine", .augment_shift = 1};

}  // namespace kiln::models
