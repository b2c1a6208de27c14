// Times kiln's generated LeNet-5 train_step (SGD with momentum) on random data:
//   bench_lenet5_train_step [--batch 64] [--steps 200] [--rounds 1]
// prints one line per round: "kiln_ms_per_step <median>". Run by lenet5_train_step.py,
// which times PyTorch in the same run and prints the ratio.
#include "bench/measure.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <fmt/format.h>

#include <vector>

int main(int argc, char** argv) {
  const int batch = kiln::bench::int_flag(argc, argv, "--batch", 64);
  const int steps = kiln::bench::int_flag(argc, argv, "--steps", 200);
  const int rounds = kiln::bench::int_flag(argc, argv, "--rounds", 1);
  const kiln::RegisteredModel& model = kiln::find_model("lenet5");
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  std::vector<float> m(params.size()), v(params.size()), images(std::size_t(batch) * 784);
  std::vector<int32_t> labels(batch);
  for (std::size_t k = 0; k < images.size(); ++k) images[k] = float((k * 2654435761u) % 1000) / 1000.0f;
  for (int k = 0; k < batch; ++k) labels[k] = k % 10;
  kiln::HyperParameters h = kiln::defaults_for(kiln::Optimizer::momentum, 0.01f);
  for (int r = 0; r < rounds; ++r) {
    const double ms = kiln::bench::median_ms(20, steps, [&](int) {
      net.train_step(params.data(), m.data(), v.data(), params.buffers(), images.data(), labels.data(),
                     batch, 0, h);
    });
    fmt::print("kiln_ms_per_step {:.4f}\n", ms);
  }
  return 0;
}
