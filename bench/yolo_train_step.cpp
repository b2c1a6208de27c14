// Times kiln's generated train_step of the YOLO-style detector (models/yolo.hpp:
// yolo_shapes; Adam, target_loss) on fixed pseudo-random images and targets:
//   bench_yolo_train_step [--batch 16] [--steps 10] [--rounds 1]
// prints one line per round: "kiln_ms_per_step <median>". Run by yolo_train_step.py,
// which times PyTorch in the same run and prints the ratio.
#include "bench/train_step_timing.hpp"

int main(int argc, char** argv) {
  const int batch = kiln::bench::int_flag(argc, argv, "--batch", 16);
  const int steps = kiln::bench::int_flag(argc, argv, "--steps", 10);
  const int rounds = kiln::bench::int_flag(argc, argv, "--rounds", 1);
  const kiln::RegisteredModel& model = kiln::find_model("yolo_shapes");
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  const std::vector<float> images = kiln::bench::pattern_values(std::size_t(batch) * net.sample_size());
  // Target values and weights, both in [0, 1).
  const std::vector<float> targets = kiln::bench::pattern_values(std::size_t(batch) * net.targets_size());
  const kiln::HyperParameters h = kiln::defaults_for(kiln::Optimizer::adam, 1e-4f);
  kiln::bench::print_train_step_ms(net, params, images.data(), targets.data(), batch, h, 2, steps, rounds);
  return 0;
}
