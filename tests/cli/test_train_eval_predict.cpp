// The classifier commands end to end on real MNIST: train one epoch, check the
// checkpoint (PyTorch names and shapes, no temp files), eval reproduces the accuracy,
// predict classifies held-out digits written as PNGs; and a diverging run fails cleanly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

#include "cli/support.hpp"
#include "runtime/datasets.hpp"
#include "runtime/image.hpp"
#include "runtime/safetensors.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// One epoch of the default recipe, trained once for all the tests here (about 5 s).
struct Trained {
  ScratchDir dir;
  std::string checkpoint = dir.path("lenet5.safetensors");
  KilnRun run;
  std::string accuracy;  // as printed: "91.80"
  Trained() {
    run = expect_success({"train", "lenet5", "--epochs", "1", "--seed", "3", "--out", checkpoint});
    std::smatch m;
    const std::regex line(R"(test accuracy: (\d+\.\d\d) % on 2000 held-out images; weights saved to )");
    INFO(run.out);
    REQUIRE(std::regex_search(run.out, m, line));
    accuracy = m[1];
  }
};

const Trained& trained() {
  static const Trained t;
  return t;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

// LeNet-5's OpenCL build (through PoCL on this CPU) trains as its CPU build does: the
// same epoch from the same seed reaches the same held-out accuracy, up to the rounding
// differences that accumulate over 125 steps (about 10 s).
TEST_CASE("train --target opencl: one epoch reaches the CPU build's accuracy", "[opencl]") {
  ScratchDir dir;
  const KilnRun run = expect_success({"train", "lenet5", "--epochs", "1", "--seed", "3",
                                      "--target", "opencl", "--out", dir.path("cl.safetensors")});
  std::smatch m;
  const std::regex line(R"(test accuracy: (\d+\.\d\d) % on 2000 held-out images)");
  INFO(run.out);
  REQUIRE(std::regex_search(run.out, m, line));
  CHECK(std::abs(std::stod(m[1]) - std::stod(trained().accuracy)) <= 1.0);
}

TEST_CASE("train: one epoch writes a checkpoint with PyTorch names and shapes and prints the accuracy") {
  const Trained& t = trained();
  INFO(t.run.out);
  // The header, one line per epoch, the result; no progress bar when not on a terminal.
  const std::vector<std::string> out = lines(t.run.out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].rfind("training lenet5 on mnist (8000 images, 2000 held out): 1 epochs", 0) == 0);
  CHECK(contains(out[1], "held-out accuracy " + t.accuracy + " %"));
  CHECK(t.run.out.find('\r') == std::string::npos);
  // One epoch of Adam on 8,000 digits: well above chance (about 92 % measured).
  CHECK(std::stod(t.accuracy) >= 80.0);

  // Only the checkpoint is left: no temp file beside it.
  CHECK(t.dir.listing() == std::vector<std::string>{"lenet5.safetensors"});
  const SafetensorsFile file = load_safetensors(t.checkpoint);
  REQUIRE(file.tensors.size() == lenet5_parameters().size());
  for (const ParameterSpec& p : lenet5_parameters()) {
    INFO(p.name);
    REQUIRE(file.tensors.count(p.name) == 1);
    const Tensor& tensor = file.tensors.at(p.name);
    CHECK(tensor.dtype == DType::F32);
    CHECK(tensor.shape == p.shape);
    const std::vector<float> v = tensor_floats(tensor, p.name, t.checkpoint);
    CHECK(std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); }));
  }
  CHECK(file.metadata.at("model") == "lenet5");
  CHECK(file.metadata.at("epochs") == "1");
  CHECK(std::stod(file.metadata.at("held_out_accuracy")) * 100 == Approx(std::stod(t.accuracy)).margin(0.006));
}

TEST_CASE("eval: reproduces the accuracy train printed") {
  const Trained& t = trained();
  const KilnRun run = expect_success({"eval", "lenet5", "--weights", t.checkpoint});
  CHECK(run.out == "test accuracy: " + t.accuracy + " % on 2000 held-out images\n");
  // The batch size only changes how the work is split.
  const KilnRun small = expect_success({"eval", "lenet5", "--weights", t.checkpoint, "--batch", "7"});
  CHECK(small.out == run.out);
}

TEST_CASE("predict: held-out digits written as PNG files are classified as forward classifies them") {
  const Trained& t = trained();
  ScratchDir dir;
  const auto [train_set, held_out] = load_classification_data("mnist", default_data_dir("mnist"));
  constexpr int count = 20;

  // The same digits as one batch through `kiln forward`, for the arg-max.
  Batch batch;
  batch.count = count;
  batch.input.assign(held_out.image(0), held_out.image(0) + count * held_out.image_size());
  batch.labels.assign(held_out.labels.begin(), held_out.labels.begin() + count);
  const std::string inputs = dir.path("inputs.safetensors"), logits_path = dir.path("logits.safetensors");
  save_batch(inputs, batch);
  expect_success({"forward", "lenet5", "--weights", t.checkpoint, "--inputs", inputs, "--out", logits_path});
  const std::vector<float> logits = read_f32(logits_path, "output", {count, 10});

  int correct = 0;
  const std::regex first(R"(class (\d) \(probability (0\.\d{4}|1\.0000)\))");
  const std::regex row(R"(  (\d): (\d\.\d{4}))");
  for (int i = 0; i < count; ++i) {
    // MNIST's pixels are k / 255, so an 8-bit PNG holds them exactly.
    Image image{1, 28, 28, std::vector<float>(held_out.image(i), held_out.image(i) + 784)};
    const std::string png = dir.path("digit" + std::to_string(i) + ".png");
    save_png(png, image);
    const KilnRun run = expect_success({"predict", "lenet5", "--weights", t.checkpoint, png});
    INFO(run.out);
    const std::vector<std::string> out = lines(run.out);
    REQUIRE(out.size() == 11);
    std::smatch m;
    REQUIRE(std::regex_match(out[0], m, first));
    const int predicted = std::stoi(m[1]);
    const float* l = logits.data() + i * 10;
    CHECK(predicted == std::max_element(l, l + 10) - l);
    double total = 0;
    for (int k = 0; k < 10; ++k) {
      REQUIRE(std::regex_match(out[1 + k], m, row));
      CHECK(std::stoi(m[1]) == k);
      total += std::stod(m[2]);
      if (k == predicted) CHECK(m[2] == std::string(out[0].substr(out[0].find("probability ") + 12, 6)));
    }
    CHECK(total == Approx(1.0).margin(6e-4));  // ten values rounded to 4 places
    correct += predicted == held_out.labels[i];
  }
  // About 92 % held-out accuracy after one epoch: 15 of 20 leaves a wide margin.
  CHECK(correct >= 15);
}

TEST_CASE("train: a diverging run (--lr 1e30) fails with one line and writes no checkpoint") {
  ScratchDir dir;
  const std::string out = dir.path("diverged.safetensors");
  const std::string err = expect_failure(
      dir, {"train", "lenet5", "--lr", "1e30", "--epochs", "1", "--out", out},
      {"diverged", "loss", "--lr"}, out);
  CHECK((contains(err, "nan") || contains(err, "inf")));
}

// The --out path is checked before the first epoch: a typo in its directory must not
// cost the whole run.
TEST_CASE("train refuses an --out it cannot write before training", "[cli]") {
  ScratchDir dir;
  const std::string out = dir.path("no-such-dir/x.safetensors");
  expect_failure(dir, {"train", "lenet5", "--epochs", "1", "--out", out}, {out});
  const KilnRun run = run_kiln({"train", "lenet5", "--epochs", "1", "--out", out});
  INFO(run.out);
  CHECK_FALSE(contains(run.out, "epoch"));
}
