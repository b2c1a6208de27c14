// A small net of the less common conv options, for the PyTorch interop test
// (tests/fixtures/dilated_grouped_maxout_torch.py is its twin): a dilated conv without
// bias, a depthwise conv, maxout over channels, a grouped, strided conv with a dilation
// on one axis, and maxout over features.
#pragma once
#include "dsl/kiln.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr auto dilated_grouped_maxout = checked<model("dilated_grouped_maxout",
    input(3, 12, 12),
    conv2d(8, 3, pad(2), dilation(2), no_bias), relu,      // 8 x 12 x 12
    conv2d(8, 3, pad(1), groups(8)),                       // depthwise: 8 x 12 x 12
    maxout(2),                                             // 4 x 12 x 12
    conv2d(8, 3, stride(2), pad(1), dilation(2, 1), groups(2), no_bias), relu,  // 8 x 5 x 6
    flatten,                                               // 240
    dense(20), maxout(2),                                  // 10
    dense(10),
    softmax_cross_entropy)>;

static_assert(dilated_grouped_maxout.nodes[5].shape == shape(8, 5, 6));
// conv1 8*3*9, conv2 8*1*9 + 8, conv3 8*2*9, fc1 240*20 + 20, fc2 10*10 + 10.
static_assert(dilated_grouped_maxout.parameter_count() == 216 + 80 + 144 + 4820 + 110);

}  // namespace kiln::models
