// VGG-16 as torchvision builds it, with torchvision's names (features.0, classifier.0,
// ...), so that a torchvision state_dict saved as safetensors loads as it is. Input
// 3 x 224 x 224, normalized as torchvision's weights expect. torchvision's adaptive
// average pool before the classifier is the identity at this input size (the map is
// 7 x 7 already), so it is left out.
#pragma once
#include "dsl/kiln.hpp"

namespace kiln::models {
using namespace kiln;

// Simonyan and Zisserman 2014, configuration D, as torchvision's vgg16(). The stages
// are spelled out layer by layer inside sequential() so that positions match
// torchvision's features.N.
inline constexpr auto vgg16 = checked<model("vgg16",
    input(3, 224, 224),
    sequential("features",
        conv2d(64, 3, pad(1)), relu, conv2d(64, 3, pad(1)), relu, max_pool(2),              // 0-4
        conv2d(128, 3, pad(1)), relu, conv2d(128, 3, pad(1)), relu, max_pool(2),            // 5-9
        conv2d(256, 3, pad(1)), relu, conv2d(256, 3, pad(1)), relu,
        conv2d(256, 3, pad(1)), relu, max_pool(2),                                          // 10-16
        conv2d(512, 3, pad(1)), relu, conv2d(512, 3, pad(1)), relu,
        conv2d(512, 3, pad(1)), relu, max_pool(2),                                          // 17-23
        conv2d(512, 3, pad(1)), relu, conv2d(512, 3, pad(1)), relu,
        conv2d(512, 3, pad(1)), relu, max_pool(2)),                                         // 24-30: 512 x 7 x 7
    flatten,
    sequential("classifier",
        dense(4096), relu, dropout(),
        dense(4096), relu, dropout(),
        dense(1000)),
    softmax_cross_entropy)>;
static_assert(vgg16.parameter_count() == 138'357'544);  // torchvision's count

}  // namespace kiln::models
