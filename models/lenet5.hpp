// LeNet-5 (ReLU and max pooling, as commonly trained today) for 28x28 digits.
// Its PyTorch twin names its layers conv1, conv2, fc1, fc2, fc3, as kiln does.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr auto lenet5 = checked<model("lenet5",
    input(1, 28, 28),
    conv2d(6, 5, pad(2)), relu, max_pool(2),   // 6 x 28 x 28 -> 6 x 14 x 14
    conv2d(16, 5), relu, max_pool(2),          // 16 x 10 x 10 -> 16 x 5 x 5
    flatten,
    dense(120), relu,
    dense(84), relu,
    dense(10).initialized(Init::xavier),
    softmax_cross_entropy)>;

static_assert(lenet5.output_shape() == shape(10));
static_assert(lenet5.parameter_count() == 61706);

// MNIST digits (8,000 to train, 2,000 held out), shifted by up to 2 pixels each way,
// Adam with a cosine-decaying learning rate.
inline constexpr Recipe lenet5_recipe{.dataset = "mnist", .epochs = 20, .batch = 64,
                                      .learning_rate = 2e-3f, .optimizer = "adam",
                                      .lr_schedule = "cosine", .augment_shift = 2};

}  // namespace kiln::models
