// Bad weights files, through `kiln forward` (and eval / predict / gradients where they
// load weights on their own path): each is one line on stderr naming the file and the
// problem, a non-zero exit, and no output file written or clobbered.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "cli/support.hpp"
#include "runtime/safetensors.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// A scratch dir holding good weights (W) and inputs (X); tests write the bad weights
// beside them and run `kiln forward` with --out Y.
struct ForwardCase {
  ScratchDir dir;
  Weights weights = random_weights(7);
  std::string good = dir.path("good.safetensors");
  std::string inputs = dir.path("inputs.safetensors");
  std::string out = dir.path("output.safetensors");
  ForwardCase() {
    save_weights(good, weights);
    save_batch(inputs, random_batch(2, 8));
  }
  std::vector<std::string> forward(const std::string& weights_path) const {
    return {"forward", "lenet5", "--weights", weights_path, "--inputs", inputs, "--out", out};
  }
  // Writes `tensors` as weights file `name` and expects `kiln forward` to fail on it.
  std::string fails_with(const std::string& name, const TensorMap& tensors,
                         const std::vector<std::string>& mentions) {
    const std::string path = dir.path(name);
    save_safetensors(path, tensors);
    std::vector<std::string> all{path};
    all.insert(all.end(), mentions.begin(), mentions.end());
    return expect_failure(dir, forward(path), all, out);
  }
};

}  // namespace

TEST_CASE("weights: a missing file is named, for every command that loads weights") {
  ForwardCase c;
  const std::string missing = c.dir.path("no-such-weights.safetensors");
  expect_failure(c.dir, c.forward(missing), {missing, "no such file"}, c.out);
  expect_failure(c.dir, {"gradients", "lenet5", "--weights", missing, "--inputs", c.inputs, "--out", c.out},
                 {missing, "no such file"}, c.out);
  expect_failure(c.dir, {"eval", "lenet5", "--weights", missing}, {missing, "no such file"});
  expect_failure(c.dir, {"predict", "lenet5", "--weights", missing, c.dir.path("digit.png")},
                 {missing, "no such file"});
  // A directory is not a weights file either.
  expect_failure(c.dir, c.forward(c.dir.path("")), {"is a directory"}, c.out);
}

TEST_CASE("weights: --weights is required") {
  ForwardCase c;
  expect_failure(c.dir, {"forward", "lenet5", "--inputs", c.inputs, "--out", c.out},
                 {"--weights", "required"}, c.out);
}

TEST_CASE("weights: a file cut short at any point is refused") {
  ForwardCase c;
  const std::string bytes = read_bytes(c.good);
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  const std::string cut = c.dir.path("cut.safetensors");
  // Empty, inside the length, inside the JSON, right after it, inside the first
  // tensor's data, inside the last, and one byte short.
  for (size_t size : {size_t(0), size_t(5), size_t(8), size_t(8 + header / 2), size_t(8 + header),
                      size_t(8 + header + 10), bytes.size() / 2, bytes.size() - 1}) {
    DYNAMIC_SECTION("cut to " << size << " of " << bytes.size() << " bytes") {
      write_bytes(cut, bytes.substr(0, size));
      const std::string err = expect_failure(c.dir, c.forward(cut), {cut}, c.out);
      INFO(err);
      // Cut in the header: "truncated"; cut in the data: the tensor that runs past it.
      CHECK((contains(err, "truncated") || contains(err, "past the end of the")));
    }
  }
}

TEST_CASE("weights: a corrupt header is refused") {
  ForwardCase c;
  const std::string bytes = read_bytes(c.good);
  const std::string bad = c.dir.path("corrupt.safetensors");
  SECTION("not a safetensors file at all: a huge header length") {
    write_bytes(bad, "\x89PNG\r\n\x1a\n but not really a PNG either");
    expect_failure(c.dir, c.forward(bad), {bad, "header length", "is this a safetensors file?"}, c.out);
  }
  SECTION("the JSON is broken") {
    std::string broken = bytes;
    broken[8] = '[';  // '{' -> '['
    broken[9] = '!';
    write_bytes(bad, broken);
    expect_failure(c.dir, c.forward(bad), {bad, "invalid JSON"}, c.out);
  }
  SECTION("the JSON is not an object") {
    std::string json = "[1, 2, 3]     ";  // padded to 16 bytes with the length below
    json.resize(16, ' ');
    uint64_t length = json.size();
    write_bytes(bad, std::string(reinterpret_cast<const char*>(&length), 8) + json);
    expect_failure(c.dir, c.forward(bad), {bad, "not a JSON object"}, c.out);
  }
  SECTION("offsets that overlap") {
    std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    uint64_t length = json.size();
    write_bytes(bad, std::string(reinterpret_cast<const char*>(&length), 8) + json +
                         std::string(12, '\0'));
    expect_failure(c.dir, c.forward(bad), {bad, "overlap"}, c.out);
  }
}

TEST_CASE("weights: a missing tensor is named") {
  ForwardCase c;
  for (const ParameterSpec& p : lenet5_parameters()) {
    DYNAMIC_SECTION("without " << p.name) {
      TensorMap tensors = weight_tensors(c.weights);
      tensors.erase(p.name);
      c.fails_with("missing.safetensors", tensors, {"missing tensor '" + p.name + "'"});
    }
  }
  SECTION("a model's weights saved under another prefix (model.conv1.weight)") {
    TensorMap tensors;
    for (auto& [name, t] : weight_tensors(c.weights)) tensors["model." + name] = t;
    c.fails_with("prefixed.safetensors", tensors, {"missing tensor 'conv1.weight'"});
  }
}

TEST_CASE("weights: a tensor of the wrong shape is named with both shapes") {
  ForwardCase c;
  TensorMap tensors = weight_tensors(c.weights);
  SECTION("conv1.weight with a 3x3 kernel") {
    tensors["conv1.weight"] = f32_tensor({6, 1, 3, 3}, std::vector<float>(54, 0.1f));
    c.fails_with("shape.safetensors", tensors,
                 {"tensor 'conv1.weight' has shape [6, 1, 3, 3], expected [6, 1, 5, 5]"});
  }
  SECTION("fc1.weight transposed ([in, out], as TensorFlow lays it out)") {
    tensors["fc1.weight"] = f32_tensor({400, 120}, c.weights.at("fc1.weight"));
    c.fails_with("shape.safetensors", tensors,
                 {"tensor 'fc1.weight' has shape [400, 120], expected [120, 400]"});
  }
  SECTION("fc3.bias as a [1, 10] row") {
    tensors["fc3.bias"] = f32_tensor({1, 10}, c.weights.at("fc3.bias"));
    c.fails_with("shape.safetensors", tensors, {"tensor 'fc3.bias' has shape [1, 10], expected [10]"});
  }
  SECTION("conv2.bias as a scalar") {
    tensors["conv2.bias"] = f32_tensor({}, std::vector<float>{0.5f});
    c.fails_with("shape.safetensors", tensors, {"tensor 'conv2.bias' has shape [], expected [16]"});
  }
}

TEST_CASE("weights: a tensor of the wrong dtype is named; F64 is converted") {
  ForwardCase c;
  TensorMap tensors = weight_tensors(c.weights);
  SECTION("I64") {
    tensors["fc1.bias"] = i64_tensor({120}, std::vector<int64_t>(120, 1));
    c.fails_with("dtype.safetensors", tensors, {"tensor 'fc1.bias'", "dtype I64", "F32"});
  }
  SECTION("I32") {
    tensors["conv2.bias"] = i32_tensor({16}, std::vector<int32_t>(16, 0));
    c.fails_with("dtype.safetensors", tensors, {"tensor 'conv2.bias'", "dtype I32", "F32"});
  }
  SECTION("BF16 (two bytes an element)") {
    Tensor half{DType::BF16, {10}, std::string(20, '\0')};
    tensors["fc3.bias"] = half;
    c.fails_with("dtype.safetensors", tensors, {"tensor 'fc3.bias'", "dtype BF16", "F32"});
  }
  SECTION("an F64 file (PyTorch's .double()) gives exactly the F32 file's output") {
    TensorMap wide;
    for (const auto& [name, t] : tensors) {
      const std::vector<float> v = tensor_floats(t, name, "weights");
      const std::vector<double> d(v.begin(), v.end());
      wide[name] = Tensor{DType::F64, t.shape,
                          std::string(reinterpret_cast<const char*>(d.data()), d.size() * 8)};
    }
    const std::string f64 = c.dir.path("f64.safetensors");
    save_safetensors(f64, wide);
    expect_success(c.forward(c.good));
    const std::string from_f32 = read_bytes(c.out);
    expect_success(c.forward(f64));
    CHECK(read_bytes(c.out) == from_f32);
  }
}

TEST_CASE("weights: NaN or infinity in a tensor is refused, naming the tensor and element") {
  ForwardCase c;
  Weights weights = c.weights;
  SECTION("NaN") {
    weights["fc2.weight"][1234] = std::numeric_limits<float>::quiet_NaN();
    c.fails_with("nan.safetensors", weight_tensors(weights),
                 {"tensor 'fc2.weight'", "non-finite", "element 1234"});
  }
  SECTION("-inf") {
    weights["conv1.bias"][5] = -std::numeric_limits<float>::infinity();
    c.fails_with("inf.safetensors", weight_tensors(weights),
                 {"tensor 'conv1.bias'", "non-finite", "element 5"});
  }
  SECTION("also for eval") {
    weights["fc3.weight"][0] = std::numeric_limits<float>::quiet_NaN();
    const std::string nan = c.dir.path("nan.safetensors");
    save_weights(nan, weights);
    expect_failure(c.dir, {"eval", "lenet5", "--weights", nan}, {nan, "fc3.weight", "non-finite"});
  }
}

TEST_CASE("weights: extra tensors (optimizer state, BN counters) are ignored") {
  ForwardCase c;
  TensorMap tensors = weight_tensors(c.weights);
  tensors["num_batches_tracked"] = i64_tensor({}, std::vector<int64_t>{3});
  tensors["optimizer.state.conv1.weight"] = f32_tensor({2}, std::vector<float>{1, 2});
  const std::string extra = c.dir.path("extra.safetensors");
  save_safetensors(extra, tensors);
  expect_success(c.forward(c.good));
  const std::string plain = read_bytes(c.out);
  expect_success(c.forward(extra));
  CHECK(read_bytes(c.out) == plain);
}
