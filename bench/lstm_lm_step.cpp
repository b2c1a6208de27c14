// Times kiln's generated train_step of the bench's LSTM language model
// (models/char_rnn.hpp: lstm_lm_bench; embedding 64, LSTM 256, 50 steps, vocabulary 65,
// Adam, gradients clipped to norm 5) on random tokens:
//   bench_lstm_lm_step [--batch 32] [--steps 30] [--rounds 1]
// prints one line per round: "kiln_ms_per_step <median>". Run by lstm_lm_step.py, which
// times PyTorch in the same run and prints the ratio.
#include "bench/train_step_timing.hpp"

int main(int argc, char** argv) {
  const int batch = kiln::bench::int_flag(argc, argv, "--batch", 32);
  const int steps = kiln::bench::int_flag(argc, argv, "--steps", 30);
  const int rounds = kiln::bench::int_flag(argc, argv, "--rounds", 1);
  const kiln::RegisteredModel& model = kiln::find_model("lstm_lm_bench");
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  const int T = model.view.input_shape()[0], V = model.view.nodes[0].vocabulary;
  std::vector<float> tokens(std::size_t(batch) * T);
  std::vector<int32_t> labels(tokens.size());
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    tokens[k] = float((k * 2654435761u) % V);
    labels[k] = int32_t((k * 40503u + 7) % V);
  }
  kiln::HyperParameters h = kiln::defaults_for(kiln::Optimizer::adam, 2e-3f);
  h.clip_norm = 5.0f;
  kiln::bench::print_train_step_ms(net, params, tokens.data(), labels.data(), batch, h, 10, steps, rounds);
  return 0;
}
