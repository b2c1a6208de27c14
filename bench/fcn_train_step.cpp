// Times kiln's generated train_step of the scene FCN (models/fcn.hpp: fcn_shapes; Adam,
// per-pixel cross-entropy) on random images and labels:
//   bench_fcn_train_step [--batch 16] [--steps 10] [--rounds 1]
// prints one line per round: "kiln_ms_per_step <median>". Run by fcn_train_step.py,
// which times PyTorch in the same run and prints the ratio.
#include "bench/train_step_timing.hpp"

int main(int argc, char** argv) {
  const int batch = kiln::bench::int_flag(argc, argv, "--batch", 16);
  const int steps = kiln::bench::int_flag(argc, argv, "--steps", 10);
  const int rounds = kiln::bench::int_flag(argc, argv, "--rounds", 1);
  const kiln::RegisteredModel& model = kiln::find_model("fcn_shapes");
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  const kiln::Shape out = model.view.output_shape();
  const std::vector<float> images = kiln::bench::pattern_values(std::size_t(batch) * net.sample_size());
  std::vector<int32_t> labels(std::size_t(batch) * out.height() * out.width());
  for (std::size_t k = 0; k < labels.size(); ++k) labels[k] = int32_t((k * 40503u + 7) % out.channels());
  const kiln::HyperParameters h = kiln::defaults_for(kiln::Optimizer::adam, 1e-4f);
  kiln::bench::print_train_step_ms(net, params, images.data(), labels.data(), batch, h, 2, steps, rounds);
  return 0;
}
