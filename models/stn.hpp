// A spatial transformer classifier (Jaderberg et al. 2015) for distorted digits: MNIST
// digits rotated, scaled and moved at random on a 42 x 42 canvas ("mnist_distorted",
// runtime/distorted.hpp). A small localization net reads the canvas and gives the 6
// offsets of an affine map from the identity; the canvas is resampled through that map
// into 28 x 28, which a LeNet-sized classifier reads. The map starts as the identity (the
// localization's last layer starts at zero) and learns to undo the distortion: nothing
// but the classification loss teaches it. distorted_cnn is the same classifier on the
// canvas itself, with no transformer, for comparison.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr auto stn_mnist = checked<model("stn_mnist",
    input(1, 42, 42),
    spatial_transformer(sequential("localization",
        max_pool(2),                          // 1 x 21 x 21
        conv2d(8, 7), relu, max_pool(2),      // 8 x 15 x 15 -> 8 x 7 x 7
        conv2d(10, 5), relu,                  // 10 x 3 x 3
        flatten, dense(32), relu,
        dense(6).initialized(Init::zeros)),   // the map's offsets from the identity
        28, 28),
    // Named, as the localization's layers count towards conv3, fc3, ... otherwise.
    conv2d(16, 5, pad(2)).named("conv1"), relu, max_pool(2),  // 16 x 14 x 14
    conv2d(32, 5).named("conv2"), relu, max_pool(2),          // 32 x 5 x 5
    flatten, dense(128).named("fc1"), relu,
    dense(10).initialized(Init::xavier).named("fc2"),
    softmax_cross_entropy)>;

static_assert(stn_mnist.output_shape() == shape(10));

inline constexpr auto distorted_cnn = checked<model("distorted_cnn",
    input(1, 42, 42),
    conv2d(16, 5, pad(2)), relu, max_pool(2),  // 16 x 21 x 21
    conv2d(32, 5), relu, max_pool(2),          // 32 x 8 x 8
    flatten, dense(128), relu,
    dense(10).initialized(Init::xavier),
    softmax_cross_entropy)>;

// The distorted digits (8,000 to train, 2,000 held out), Adam with a cosine decay.
inline constexpr Recipe stn_recipe{.dataset = "mnist_distorted", .epochs = 30, .batch = 64,
                                   .learning_rate = 1e-3f, .optimizer = "adam",
                                   .lr_schedule = "cosine"};

}  // namespace kiln::models
