// Times kiln's generated LeNet-5 train_step (SGD with momentum) on random data:
//   bench_lenet5_train_step [--batch 64] [--steps 200] [--rounds 1]
// prints one line per round: "kiln_ms_per_step <median>". Run by lenet5_train_step.py,
// which times PyTorch in the same run and prints the ratio.
#include "bench/train_step_timing.hpp"

int main(int argc, char** argv) {
  const int batch = kiln::bench::int_flag(argc, argv, "--batch", 64);
  const int steps = kiln::bench::int_flag(argc, argv, "--steps", 200);
  const int rounds = kiln::bench::int_flag(argc, argv, "--rounds", 1);
  const kiln::RegisteredModel& model = kiln::find_model("lenet5");
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  const std::vector<float> images = kiln::bench::pattern_values(std::size_t(batch) * 784);
  std::vector<int32_t> labels(batch);
  for (int k = 0; k < batch; ++k) labels[k] = k % 10;
  const kiln::HyperParameters h = kiln::defaults_for(kiln::Optimizer::momentum, 0.01f);
  kiln::bench::print_train_step_ms(net, params, images.data(), labels.data(), batch, h, 20, steps, rounds);
  return 0;
}
