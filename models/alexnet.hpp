// AlexNet as torchvision builds it, with torchvision's names (features.0, classifier.1,
// ...: positions in its nn.Sequential), so that a torchvision state_dict saved as
// safetensors loads as it is. Input 3 x 224 x 224, normalized as torchvision's weights
// expect. torchvision's adaptive average pool before the classifier is the identity at
// this input size (the map is 6 x 6 already), so it is left out.
#pragma once
#include "dsl/kiln.hpp"

namespace kiln::models {
using namespace kiln;

// Krizhevsky et al. 2012, single-tower, as torchvision's alexnet().
inline constexpr auto alexnet = checked<model("alexnet",
    input(3, 224, 224),
    sequential("features",
        conv2d(64, 11, stride(4), pad(2)), relu, max_pool(3, stride(2)),    // 64 x 27 x 27
        conv2d(192, 5, pad(2)), relu, max_pool(3, stride(2)),               // 192 x 13 x 13
        conv2d(384, 3, pad(1)), relu,
        conv2d(256, 3, pad(1)), relu,
        conv2d(256, 3, pad(1)), relu, max_pool(3, stride(2))),              // 256 x 6 x 6
    flatten,
    sequential("classifier",
        dropout(), dense(4096), relu,
        dropout(), dense(4096), relu,
        dense(1000)),
    softmax_cross_entropy)>;
static_assert(alexnet.parameter_count() == 61'100'840);  // torchvision's count

}  // namespace kiln::models
