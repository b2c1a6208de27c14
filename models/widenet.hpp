// A small wide net that goes through the channels-innermost CPU policy
// (schedules/cpu_channels.cpp): every op kind at 16-64 channels, a residual block, a
// stride-2 conv, a 1x1 conv, a concat, both pools, global average pooling, batch norm,
// dropout and input normalization (the conv before batch norm has no bias, as in ResNet:
// the normalization removes it, so its gradient would be zero up to rounding). The tests build it with each CPU policy and for the
// GPU targets, and check that every build computes the same numbers.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr auto widenet = checked<model("widenet",
    input(3, 20, 18), normalize({0.5f, 0.4f, 0.3f}, {0.2f, 0.25f, 0.3f}),
    conv2d(32, 3, pad(1), no_bias), batch_norm(), relu,                   // 32 x 20 x 18
    residual(sequence(conv2d(32, 3, pad(1)), relu, conv2d(32, 3, pad(1)))), relu,
    conv2d(64, 3, pad(1), stride(2)), prelu(),                            // 64 x 10 x 9
    max_pool(2),                                                          // 64 x 5 x 4
    concat(conv2d(32, 1), sequence(conv2d(16, 3, pad(1)), elu())),        // 48 x 5 x 4
    leaky_relu(), avg_pool(2, stride(1)),                                 // 48 x 4 x 3
    conv2d(40, 3, pad(1)), kiln::tanh, global_avg_pool,                   // 40
    dense(24), sigmoid, dropout(0.3f), dense(10),
    softmax_cross_entropy)>;

static_assert(widenet.output_shape() == shape(10));

}  // namespace kiln::models
