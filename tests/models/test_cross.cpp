// The arm64 build against the x86 one (issue 4): ResNet-18's forward entry built for
// arm-64-linux, linked into a static arm64 program (tests/cross/run_forward.cpp) and run
// under qemu-aarch64, gives the logits the x86 build gives on the same weights and
// batch (tests/cross/fill.hpp). Built where the cross compiler and qemu are (CI installs
// both); see tests/CMakeLists.txt.
#ifdef KILN_ARM_FORWARD
#include "models/support.hpp"

#include <cstdio>
#include <memory>

#include "cross/fill.hpp"

TEST_CASE("ResNet-18's arm64 forward entry, under qemu, matches the x86 build", "[models][cross]") {
  const kiln::Network net(kiln::find_model("resnet18"), "cpu");
  const int batch = 2;  // as run_forward.cpp
  std::vector<float> params(std::size_t(net.parameter_count())), buffers(std::size_t(net.buffer_floats()));
  std::vector<float> input(std::size_t(batch * net.sample_size())), x86(std::size_t(batch) * 1000, NAN);
  kiln::cross::fill_parameters(params.data(), params.size());
  kiln::cross::fill_buffers(buffers.data(), buffers.size());
  kiln::cross::fill_input(input.data(), input.size());
  net.forward(params.data(), buffers.data(), input.data(), batch, x86.data());

  const std::string command = std::string(KILN_QEMU_AARCH64) + " " + KILN_ARM_FORWARD;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::vector<float> arm;
  for (float v; std::fscanf(pipe.get(), "%f", &v) == 1;) arm.push_back(v);
  REQUIRE(pclose(pipe.release()) == 0);
  REQUIRE(arm.size() == x86.size());
  // Logits of order 0.1-1 here; float sums in other orders and without x86's FMA
  // contractions differ in the last bits.
  CHECK(kiln::modeltest::max_relative_difference(arm, x86) < 1e-4);
}
#endif
