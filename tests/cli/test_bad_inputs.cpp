// Bad inputs files for `kiln forward` / `kiln gradients`, and bad images for
// `kiln predict`: one stderr line naming the file and the problem, a non-zero exit, no
// output file written or clobbered.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cli/support.hpp"
#include "runtime/image.hpp"
#include "runtime/safetensors.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

struct TensorCase {
  ScratchDir dir;
  std::string weights = dir.path("weights.safetensors");
  std::string inputs = dir.path("inputs.safetensors");
  std::string out = dir.path("out.safetensors");
  Batch batch = random_batch(3, 11);
  TensorCase() { save_weights(weights, random_weights(3)); }
  std::vector<std::string> command(const std::string& name) const {
    return {name, "lenet5", "--weights", weights, "--inputs", inputs, "--out", out};
  }
  // Writes `tensors` as the inputs file and expects `kiln <command>` to fail on it.
  void fails_with(const std::string& name, const TensorMap& tensors,
                  std::vector<std::string> mentions) {
    save_safetensors(inputs, tensors);
    mentions.push_back(inputs);
    expect_failure(dir, command(name), mentions, out);
  }
  Tensor input(std::vector<int64_t> shape) const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return f32_tensor(shape, std::vector<float>(size_t(n), 0.5f));
  }
  Tensor labels() const { return i64_tensor({batch.count}, batch.labels); }
};

}  // namespace

TEST_CASE("inputs: a missing inputs file is named") {
  TensorCase c;
  for (const char* command : {"forward", "gradients"})
    expect_failure(c.dir, c.command(command), {c.inputs, "no such file"}, c.out);
}

TEST_CASE("inputs: a file without 'input'") {
  TensorCase c;
  for (const char* command : {"forward", "gradients"})
    c.fails_with(command, {{"labels", c.labels()}, {"inputs", c.input({3, 1, 28, 28})}},
                 {"missing tensor 'input'"});
}

TEST_CASE("inputs: 'input' with the wrong per-sample shape names both shapes") {
  TensorCase c;
  for (const char* command : {"forward", "gradients"}) {
    DYNAMIC_SECTION(command) {
      c.fails_with(command, {{"input", c.input({3, 1, 32, 32})}, {"labels", c.labels()}},
                   {"tensor 'input' has shape [3, 1, 32, 32], expected [3, 1, 28, 28]"});
      // NHWC, as TensorFlow writes images.
      c.fails_with(command, {{"input", c.input({3, 28, 28, 1})}, {"labels", c.labels()}},
                   {"tensor 'input' has shape [3, 28, 28, 1], expected [3, 1, 28, 28]"});
      // Flattened pixels.
      c.fails_with(command, {{"input", c.input({3, 784})}, {"labels", c.labels()}},
                   {"tensor 'input' has shape [3, 784], expected [3, 1, 28, 28]"});
      // One image without the batch dimension.
      c.fails_with(command, {{"input", c.input({1, 28, 28})}, {"labels", c.labels()}},
                   {"tensor 'input' has shape [1, 28, 28], expected [1, 1, 28, 28]"});
      c.fails_with(command, {{"input", c.input({})}, {"labels", c.labels()}},
                   {"tensor 'input' has shape []", "N >= 1"});
      c.fails_with(command, {{"input", c.input({0, 1, 28, 28})}, {"labels", c.labels()}},
                   {"tensor 'input' has shape [0, 1, 28, 28]", "N >= 1"});
    }
  }
}

TEST_CASE("inputs: 'input' of an integer dtype is refused") {
  TensorCase c;
  c.fails_with("forward", {{"input", i64_tensor({3, 1, 28, 28}, std::vector<int64_t>(3 * 784, 1))}},
               {"tensor 'input'", "dtype I64", "F32"});
}

TEST_CASE("inputs: labels out of range name the value and its index") {
  TensorCase c;
  std::vector<int64_t> labels = c.batch.labels;
  labels[2] = 10;
  c.fails_with("gradients", {{"input", c.input({3, 1, 28, 28})}, {"labels", i64_tensor({3}, labels)}},
               {"tensor 'labels' holds 10 at index 2", "0..9"});
  labels[2] = 0;
  labels[1] = -1;
  c.fails_with("gradients", {{"input", c.input({3, 1, 28, 28})}, {"labels", i64_tensor({3}, labels)}},
               {"tensor 'labels' holds -1 at index 1", "0..9"});
  // Past int32: must not wrap around into range (2^32 + 3 would wrap to 3).
  labels[1] = (int64_t(1) << 32) + 3;
  c.fails_with("gradients", {{"input", c.input({3, 1, 28, 28})}, {"labels", i64_tensor({3}, labels)}},
               {"tensor 'labels' holds 4294967299 at index 1"});
}

TEST_CASE("inputs: labels missing, or of the wrong shape or dtype, for gradients") {
  TensorCase c;
  c.fails_with("gradients", {{"input", c.input({3, 1, 28, 28})}}, {"missing tensor 'labels'"});
  c.fails_with("gradients", {{"input", c.input({3, 1, 28, 28})}, {"labels", i64_tensor({2}, std::vector<int64_t>{1, 2})}},
               {"tensor 'labels' has shape [2], expected [3]"});
  c.fails_with("gradients",
               {{"input", c.input({3, 1, 28, 28})}, {"labels", i64_tensor({3, 1}, c.batch.labels)}},
               {"tensor 'labels' has shape [3, 1], expected [3]"});
  c.fails_with("gradients",
               {{"input", c.input({3, 1, 28, 28})}, {"labels", f32_tensor({3}, std::vector<float>{1, 2, 3})}},
               {"tensor 'labels'", "dtype F32", "I64"});
  // forward does not need labels.
  save_safetensors(c.inputs, {{"input", c.input({3, 1, 28, 28})}});
  expect_success(c.command("forward"));
}

TEST_CASE("inputs: --inputs and --out are required") {
  TensorCase c;
  save_batch(c.inputs, c.batch);
  expect_failure(c.dir, {"forward", "lenet5", "--weights", c.weights, "--out", c.out},
                 {"--inputs", "required"}, c.out);
  expect_failure(c.dir, {"gradients", "lenet5", "--weights", c.weights, "--inputs", c.inputs},
                 {"--out", "required"});
}

namespace {

// A scratch dir with weights and a PNG helper for `kiln predict`.
struct PredictCase {
  ScratchDir dir;
  std::string weights = dir.path("weights.safetensors");
  PredictCase() { save_weights(weights, random_weights(5)); }
  std::string png(const std::string& name, int channels, int height, int width) const {
    Image image{channels, height, width, std::vector<float>(size_t(channels) * height * width, 0.25f)};
    const std::string path = dir.path(name);
    save_png(path, image);
    return path;
  }
  std::vector<std::string> predict(const std::string& image) const {
    return {"predict", "lenet5", "--weights", weights, image};
  }
};

}  // namespace

TEST_CASE("predict: a good 28x28 gray PNG works (the baseline for the cases below)") {
  PredictCase c;
  const KilnRun run = expect_success(c.predict(c.png("digit.png", 1, 28, 28)));
  CHECK(contains(run.out, "class "));
}

TEST_CASE("predict: a file that is not a PNG") {
  PredictCase c;
  const std::string text = c.dir.path("digit.png");
  write_bytes(text, "P2\n28 28\n255\n0 0 0\n");  // a PGM, not a PNG
  expect_failure(c.dir, c.predict(text), {text, "not a PNG"});
  write_bytes(text, "");
  expect_failure(c.dir, c.predict(text), {text, "not a PNG"});
  // The weights file given as the image.
  expect_failure(c.dir, c.predict(c.weights), {c.weights, "not a PNG"});
}

TEST_CASE("predict: a damaged PNG") {
  PredictCase c;
  const std::string good = read_bytes(c.png("digit.png", 1, 28, 28));
  const std::string cut = c.dir.path("cut.png");
  write_bytes(cut, good.substr(0, good.size() / 2));
  expect_failure(c.dir, c.predict(cut), {cut, "PNG"});
}

TEST_CASE("predict: a PNG of the wrong size names both sizes") {
  PredictCase c;
  const std::string big = c.png("big.png", 1, 32, 32);
  expect_failure(c.dir, c.predict(big), {big, "32 x 32", "28 x 28"});
  const std::string wide = c.png("wide.png", 1, 28, 56);
  expect_failure(c.dir, c.predict(wide), {wide, "56 x 28", "28 x 28"});
}

TEST_CASE("predict: an RGB (or gray + alpha) PNG for the one-channel model") {
  PredictCase c;
  const std::string rgb = c.png("rgb.png", 3, 28, 28);
  expect_failure(c.dir, c.predict(rgb), {rgb, "3 channel", "with 1"});
  const std::string gray_alpha = c.png("gray_alpha.png", 2, 28, 28);
  expect_failure(c.dir, c.predict(gray_alpha), {gray_alpha, "2 channel", "with 1"});
}

TEST_CASE("predict: a missing image, or none given") {
  PredictCase c;
  const std::string missing = c.dir.path("missing.png");
  expect_failure(c.dir, c.predict(missing), {missing, "cannot open"});
  expect_failure(c.dir, {"predict", "lenet5", "--weights", c.weights}, {"give one image"});
}

TEST_CASE("outputs: an --out that cannot be written names the path") {
  TensorCase c;
  save_batch(c.inputs, c.batch);
  const std::string missing_dir = c.dir.path("no-such-dir/out.safetensors");
  expect_failure(c.dir, {"forward", "lenet5", "--weights", c.weights, "--inputs", c.inputs, "--out", missing_dir},
                 {missing_dir, "cannot save"});
  const std::string directory = c.dir.path("a-directory");
  std::filesystem::create_directory(directory);
  expect_failure(c.dir, {"gradients", "lenet5", "--weights", c.weights, "--inputs", c.inputs, "--out", directory},
                 {directory, "cannot save", "is a directory"});
}

// An empty --out once got "kiln forward: : cannot save: rename failed: no such file",
// naming neither the flag nor the path.
TEST_CASE("an empty --out names the flag", "[cli]") {
  TensorCase c;
  save_batch(c.inputs, c.batch);
  expect_failure(c.dir, {"forward", "lenet5", "--weights", c.weights, "--inputs", c.inputs, "--out", ""},
                 {"--out"});
}
