// Times kiln's generated forward entry of the scene FCN (models/fcn.hpp: fcn_shapes,
// 3 x 128 x 128 in, per-pixel logits 4 x 128 x 128 out) on random images:
//   bench_fcn_inference [--batch 1] [--calls 20] [--rounds 1]
// prints one line per round: "kiln_ms_per_batch <median>". Run by fcn_inference.py, which
// times PyTorch in the same run and prints the ratio.
#include "bench/train_step_timing.hpp"

#include <fmt/format.h>

#include <vector>

int main(int argc, char** argv) {
  const int batch = kiln::bench::int_flag(argc, argv, "--batch", 1);
  const int calls = kiln::bench::int_flag(argc, argv, "--calls", 20);
  const int rounds = kiln::bench::int_flag(argc, argv, "--rounds", 1);
  const kiln::RegisteredModel& model = kiln::find_model("fcn_shapes");
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  const std::vector<float> images = kiln::bench::pattern_values(std::size_t(batch) * net.sample_size());
  std::vector<float> logits(std::size_t(batch) * net.output_size());
  for (int r = 0; r < rounds; ++r) {
    const double ms = kiln::bench::median_ms(3, calls, [&](int) {
      net.forward(params.data(), params.buffers(), images.data(), batch, logits.data());
    });
    fmt::print("kiln_ms_per_batch {:.4f}\n", ms);
  }
  return 0;
}
