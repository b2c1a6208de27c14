// `kiln forward` and `kiln gradients` on good files: weights and inputs written with the
// runtime's save_safetensors go through the CLI and come back with the right names,
// shapes and values (checked against a plain double-precision LeNet-5).
#include <catch2/catch.hpp>

#include <cmath>

#include "cli/lenet5_reference.hpp"
#include "cli/support.hpp"
#include "runtime/safetensors.hpp"

using namespace kiln;
using namespace kiln::test;

TEST_CASE("forward: safetensors round trip gives output [N, 10] matching a double-precision LeNet-5") {
  ScratchDir dir;
  const Weights weights = random_weights(31);
  const Batch batch = random_batch(4, 32);
  const std::string w = dir.path("w.safetensors"), x = dir.path("x.safetensors"), y = dir.path("y.safetensors");
  save_weights(w, weights);
  save_batch(x, batch, false);
  const KilnRun run = expect_success({"forward", "lenet5", "--weights", w, "--inputs", x, "--out", y});
  CHECK(run.out == "wrote 'output' [4, 10] to " + y + "\n");

  const SafetensorsFile file = load_safetensors(y);
  CHECK(file.tensors.size() == 1);
  const std::vector<float> output = read_f32(y, "output", {4, 10});
  double worst = 0, scale = 0;
  for (int i = 0; i < batch.count; ++i) {
    const std::vector<double> expected = lenet5_logits(weights, batch.input.data() + i * 784);
    for (int k = 0; k < 10; ++k) {
      worst = std::max(worst, std::abs(double(output[i * 10 + k]) - expected[k]));
      scale = std::max(scale, std::abs(expected[k]));
    }
  }
  INFO("max |kiln - reference| " << worst << " of max |logit| " << scale);
  CHECK(scale > 0.1);
  CHECK(worst <= 1e-5 * scale);
  // Only what was asked for: no temp files.
  CHECK(dir.listing() == std::vector<std::string>{"w.safetensors", "x.safetensors", "y.safetensors"});
}

TEST_CASE("forward: F64 input is converted; a sample's output does not depend on its batch") {
  ScratchDir dir;
  const Batch batch = random_batch(5, 41);
  const std::string w = dir.path("w.safetensors"), y = dir.path("y.safetensors");
  save_weights(w, random_weights(40));
  const auto forward = [&](const TensorMap& inputs) {
    const std::string x = dir.path("x.safetensors");
    save_safetensors(x, inputs);
    expect_success({"forward", "lenet5", "--weights", w, "--inputs", x, "--out", y});
    return read_f32(y, "output", {int64_t(inputs.at("input").shape[0]), 10});
  };
  const std::vector<float> f32 = forward({{"input", f32_tensor({5, 1, 28, 28}, batch.input)}});
  const std::vector<double> wide(batch.input.begin(), batch.input.end());
  const std::vector<float> f64 = forward(
      {{"input", Tensor{DType::F64, {5, 1, 28, 28}, std::string(reinterpret_cast<const char*>(wide.data()), wide.size() * 8)}}});
  CHECK(f64 == f32);
  // Sample 3 alone.
  const std::vector<float> one = forward(
      {{"input", f32_tensor({1, 1, 28, 28}, std::span(batch.input).subspan(3 * 784, 784))}});
  for (int k = 0; k < 10; ++k) CHECK(one[k] == Approx(f32[30 + k]).epsilon(1e-6).margin(1e-6));
}

TEST_CASE("gradients: writes loss, grad.input and one grad per parameter; int32 labels work as int64") {
  ScratchDir dir;
  const Weights weights = random_weights(50);
  Batch batch = random_batch(3, 51);
  const std::string w = dir.path("w.safetensors"), x = dir.path("x.safetensors"), g = dir.path("g.safetensors");
  save_weights(w, weights);
  save_batch(x, batch);
  const KilnRun run = expect_success({"gradients", "lenet5", "--weights", w, "--inputs", x, "--out", g});
  CHECK(contains(run.out, "wrote 'loss', 'grad.input' and 10 parameter gradients to " + g));

  const SafetensorsFile file = load_safetensors(g);
  CHECK(file.tensors.size() == 12);
  const float loss = read_f32(g, "loss", {})[0];
  double expected = 0;
  for (int i = 0; i < batch.count; ++i) {
    const std::vector<double> z = lenet5_logits(weights, batch.input.data() + i * 784);
    expected += cross_entropy(z.data(), 10, int(batch.labels[i])) / batch.count;
  }
  CHECK(loss == Approx(expected).epsilon(1e-5));
  read_f32(g, "grad.input", {3, 1, 28, 28});
  for (const ParameterSpec& p : lenet5_parameters()) read_f32(g, "grad." + p.name, p.shape);
  const std::string int64_bytes = read_bytes(g);

  std::vector<int32_t> narrow(batch.labels.begin(), batch.labels.end());
  save_safetensors(x, {{"input", f32_tensor({3, 1, 28, 28}, batch.input)},
                       {"labels", i32_tensor({3}, narrow)}});
  expect_success({"gradients", "lenet5", "--weights", w, "--inputs", x, "--out", g});
  CHECK(read_bytes(g) == int64_bytes);
}
