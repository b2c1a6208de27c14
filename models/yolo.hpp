// A YOLO-style single-shot detector of the procedural scenes (runtime/scenes.hpp): 3 x
// 128 x 128 images in, a 16 x 16 grid of cells out (stride 8), each cell with B = 3
// anchors of 5 + C = 8 numbers: the box (x and y offsets in the cell through a sigmoid,
// log width and height relative to the anchor), objectness, and one logistic score per
// class (YOLOv3's form). The backbone pools three times to the grid, then two dilated
// 3x3 convs widen the receptive field to about 100 pixels, past the largest shapes.
// runtime/yolo.hpp turns boxes into targets and the head back into boxes.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

namespace yolo_head {
using enum LossKind;
// Per anchor: x, y, w, h, objectness, circle, square, triangle.
inline constexpr LossKind kinds[] = {logistic, logistic, squared, squared,
                                     logistic, logistic, logistic, logistic};
}  // namespace yolo_head

inline constexpr auto yolo_shapes = checked<model("yolo_shapes",
    input(3, 128, 128),
    conv2d(16, 3, pad(1)), relu, max_pool(2),                    // 16 x 64^2
    conv2d(32, 3, pad(1)), relu, max_pool(2),                    // 32 x 32^2
    conv2d(64, 3, pad(1)), relu, max_pool(2),                    // 64 x 16^2
    conv2d(64, 3, pad(1)), relu,
    conv2d(64, 3, pad(2), dilation(2)), relu,
    conv2d(128, 3, pad(2), dilation(2)), relu,
    conv2d(24, 1).named("head"),                                 // 3 x 8 x 16^2
    target_loss(yolo_head::kinds))>;

static_assert(yolo_shapes.output_shape() == shape(24, 16, 16));

// Scenes with their boxes, made on the fly as for the FCN; Adam, cosine decay.
inline constexpr Recipe yolo_recipe{.dataset = "scene_boxes", .epochs = 40, .batch = 16,
                                    .learning_rate = 2e-3f, .optimizer = "adam",
                                    .lr_schedule = "cosine"};

}  // namespace kiln::models
