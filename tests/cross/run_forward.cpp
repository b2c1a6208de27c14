// Cross-compiled for arm64 (aarch64-linux-gnu-g++, static) and run under qemu-aarch64 by
// tests/models/test_cross.cpp: ResNet-18's forward entry built for arm-64-linux (the
// channels-innermost CPU policy with NEON's 4-float vectors), on the batch fill.hpp
// describes. Prints the logits, one per line, for the x86 test to compare with its own
// build's.
#include "models/resnet.hpp"
#include "resnet18_forward_arm_64_linux.h"

#include <HalideBuffer.h>

#include <cstdio>
#include <vector>

#include "cross/fill.hpp"

int main() {
  constexpr auto& model = kiln::models::resnet18;
  constexpr int batch = 2;
  std::vector<float> params(model.parameter_count()), buffers(model.buffer_count());
  std::vector<float> input(std::size_t(batch) * 3 * 224 * 224), logits(std::size_t(batch) * 1000);
  kiln::cross::fill_parameters(params.data(), params.size());
  kiln::cross::fill_buffers(buffers.data(), buffers.size());
  kiln::cross::fill_input(input.data(), input.size());
  Halide::Runtime::Buffer<float> p(params.data(), int(params.size())), b(buffers.data(), int(buffers.size()));
  Halide::Runtime::Buffer<float> in(input.data(), 224, 224, 3, batch), out(logits.data(), 1000, batch);
  if (const int rc = resnet18_forward_arm_64_linux(p, b, in, out); rc != 0) {
    std::fprintf(stderr, "resnet18_forward_arm_64_linux failed: Halide error %d\n", rc);
    return 1;
  }
  for (float v : logits) std::printf("%.9g\n", v);
}
