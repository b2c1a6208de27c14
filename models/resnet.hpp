// ResNets as torchvision builds them (He et al. 2015; torchvision's v1.5: a bottleneck
// strides in its 3x3 conv), with torchvision's layer names, so that a torchvision
// state_dict saved as safetensors loads as it is: conv1, bn1, layer1.0.conv1, ...,
// layer2.0.downsample.0 (the projection's conv) and .1 (its batch norm), fc.
// Input 3 x 224 x 224, normalized as torchvision's weights expect (the model does not
// normalize). Plus a CIFAR-sized ResNet-20 (He et al., section 4.2) for quick training.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

namespace resnet {

constexpr Node conv3x3(int out, int s = 1) { return conv2d(out, 3, stride(s), pad(1), no_bias); }
constexpr Node conv1x1(int out, int s = 1) { return conv2d(out, 1, stride(s), no_bias); }

// The shortcut of a block that changes shape: a strided 1x1 conv and its batch norm.
constexpr auto downsample(int out, int s) {
  return sequential("downsample", conv1x1(out, s), batch_norm());
}

// BasicBlock: two 3x3 convs; `s` strides the first.
constexpr auto basic_body(int out, int s) {
  return sequence(conv3x3(out, s).named("conv1"), batch_norm().named("bn1"), relu,
                  conv3x3(out).named("conv2"), batch_norm().named("bn2"));
}
constexpr auto basic(int out) { return sequence(residual(basic_body(out, 1)), relu); }
constexpr auto basic_down(int out, int s) {
  return sequence(residual(basic_body(out, s), downsample(out, s)), relu);
}

// Bottleneck: 1x1 to `width`, 3x3 (strided), 1x1 to 4 width.
constexpr auto bottleneck_body(int width, int s) {
  return sequence(conv1x1(width).named("conv1"), batch_norm().named("bn1"), relu,
                  conv3x3(width, s).named("conv2"), batch_norm().named("bn2"), relu,
                  conv1x1(4 * width).named("conv3"), batch_norm().named("bn3"));
}
constexpr auto bottleneck(int width) { return sequence(residual(bottleneck_body(width, 1)), relu); }
constexpr auto bottleneck_down(int width, int s) {
  return sequence(residual(bottleneck_body(width, s), downsample(4 * width, s)), relu);
}

// The ImageNet stem: 7x7 stride 2, batch norm, ReLU, 3x3 stride-2 max pool.
constexpr auto stem() {
  return sequence(conv2d(64, 7, stride(2), pad(3), no_bias).named("conv1"),
                  batch_norm().named("bn1"), relu, max_pool(3, stride(2), pad(1)));
}

}  // namespace resnet

inline constexpr auto resnet18 = checked<model("resnet18",
    input(3, 224, 224),
    resnet::stem(),                                                              // 64 x 56 x 56
    sequential("layer1", repeat<2>(resnet::basic(64))),
    sequential("layer2", resnet::basic_down(128, 2), resnet::basic(128)),        // 128 x 28 x 28
    sequential("layer3", resnet::basic_down(256, 2), resnet::basic(256)),        // 256 x 14 x 14
    sequential("layer4", resnet::basic_down(512, 2), resnet::basic(512)),        // 512 x 7 x 7
    global_avg_pool, dense(1000).named("fc"),
    softmax_cross_entropy)>;
static_assert(resnet18.parameter_count() == 11'689'512);  // torchvision's count

inline constexpr auto resnet50 = checked<model("resnet50",
    input(3, 224, 224),
    resnet::stem(),
    sequential("layer1", resnet::bottleneck_down(64, 1), repeat<2>(resnet::bottleneck(64))),     // 256 x 56 x 56
    sequential("layer2", resnet::bottleneck_down(128, 2), repeat<3>(resnet::bottleneck(128))),   // 512 x 28 x 28
    sequential("layer3", resnet::bottleneck_down(256, 2), repeat<5>(resnet::bottleneck(256))),   // 1024 x 14 x 14
    sequential("layer4", resnet::bottleneck_down(512, 2), repeat<2>(resnet::bottleneck(512))),   // 2048 x 7 x 7
    global_avg_pool, dense(1000).named("fc"),
    softmax_cross_entropy)>;
static_assert(resnet50.parameter_count() == 25'557'032);  // torchvision's count

// ResNet-20 for 32 x 32 images (He et al. 2015, section 4.2: 3 stages of 3 basic blocks
// of 16, 32, 64 channels), with projection shortcuts (their option B) where the shape
// changes, and 10 classes.
inline constexpr auto resnet20_cifar = checked<model("resnet20_cifar",
    input(3, 32, 32),
    resnet::conv3x3(16).named("conv1"), batch_norm().named("bn1"), relu,
    sequential("layer1", repeat<3>(resnet::basic(16))),                                       // 16 x 32 x 32
    sequential("layer2", resnet::basic_down(32, 2), repeat<2>(resnet::basic(32))),            // 32 x 16 x 16
    sequential("layer3", resnet::basic_down(64, 2), repeat<2>(resnet::basic(64))),            // 64 x 8 x 8
    global_avg_pool, dense(10).named("fc"),
    softmax_cross_entropy)>;
static_assert(resnet20_cifar.parameter_count() == 272'474);

// SGD with momentum and weight decay on the synthetic 10-class image set.
inline constexpr Recipe resnet20_cifar_recipe{.dataset = "shapes10", .epochs = 4, .batch = 32,
                                              .learning_rate = 0.05f, .optimizer = "momentum",
                                              .lr_schedule = "cosine", .weight_decay = 5e-4f};

}  // namespace kiln::models
