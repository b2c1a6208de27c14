// One model per convolution the conv-layer benchmark times (bench/conv_layer.py): each is
// a single conv2d, so its generated forward entry is that layer through the real
// generators and the hand CPU policy the rule picks (channels innermost for all of them).
// Built with IO_LAYOUT nhwc (bench/CMakeLists.txt): input and output are channels-last
// buffers, as PyTorch's channels_last tensors, so no transposes are timed; the tiles
// write straight into the output.
#pragma once
#include "dsl/kiln.hpp"

namespace kiln::bench {
using namespace kiln;

// ResNet's 3x3 convs, one per stage.
inline constexpr auto conv3x3_56 = checked<model("conv3x3_56", input(64, 56, 56), conv2d(64, 3, pad(1)))>;
inline constexpr auto conv3x3_28 = checked<model("conv3x3_28", input(128, 28, 28), conv2d(128, 3, pad(1)))>;
inline constexpr auto conv3x3_14 = checked<model("conv3x3_14", input(256, 14, 14), conv2d(256, 3, pad(1)))>;
inline constexpr auto conv3x3_7 = checked<model("conv3x3_7", input(512, 7, 7), conv2d(512, 3, pad(1)))>;
// Bottleneck 1x1 convs (expand and reduce) at 56x56.
inline constexpr auto conv1x1_64_256 = checked<model("conv1x1_64_256", input(64, 56, 56), conv2d(256, 1))>;
inline constexpr auto conv1x1_256_64 = checked<model("conv1x1_256_64", input(256, 56, 56), conv2d(64, 1))>;
// Downsampling: a stride-2 3x3 and its 1x1 stride-2 projection.
inline constexpr auto conv3x3_s2 = checked<model("conv3x3_s2", input(64, 56, 56), conv2d(128, 3, pad(1), stride(2)))>;
inline constexpr auto conv1x1_s2 = checked<model("conv1x1_s2", input(64, 56, 56), conv2d(128, 1, stride(2)))>;
// The stem: 7x7 stride 2 over RGB.
inline constexpr auto conv7x7_stem = checked<model("conv7x7_stem", input(3, 224, 224), conv2d(64, 7, pad(3), stride(2)))>;

}  // namespace kiln::bench
