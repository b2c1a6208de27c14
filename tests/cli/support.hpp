// Helpers for the CLI tests: run the real build/bin/kiln (KILN_BINARY) as a child
// process, capture its exit status, stdout and stderr; check the bad-input contract
// (non-zero exit, one stderr line naming the thing and the problem, no output left
// behind, an existing output untouched); LeNet-5's PyTorch parameter table and random
// weights and batches in safetensors files.
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/support.hpp"  // ScratchDir, read_bytes, write_bytes (tests/runtime)
#include "runtime/tensor.hpp"

namespace kiln::test {

struct KilnRun {
  int status = -1;         // exit status; 128 + signal number when killed by a signal
  bool signalled = false;  // a crash (abort, segfault) rather than an exit
  std::string out, err;
  std::string command;     // for messages: "kiln forward lenet5 ..."
};

// Runs `kiln args...` with stdin from /dev/null and waits for it.
KilnRun run_kiln(const std::vector<std::string>& args);

// Runs kiln and requires it to succeed (status 0, nothing on stderr).
KilnRun expect_success(const std::vector<std::string>& args);

// Runs kiln and requires a clean failure: a non-zero exit (not a crash), exactly one
// line on stderr that starts with "kiln" and contains every string in `mentions`, and
// the listing of `dir` unchanged. When `out` is not empty it must be one of `args` (a
// path inside `dir`): kiln runs a second time with `out` already holding other bytes,
// which must survive. Returns the first run's stderr line.
std::string expect_failure(const ScratchDir& dir, const std::vector<std::string>& args,
                           const std::vector<std::string>& mentions,
                           const std::string& out = "");

// LeNet-5's parameters as PyTorch names and lays them out (state_dict order).
struct ParameterSpec {
  std::string name;
  std::vector<int64_t> shape;
  int64_t size() const;
};
const std::vector<ParameterSpec>& lenet5_parameters();

// name -> values, row-major in the spec's shape.
using Weights = std::map<std::string, std::vector<float>>;

// He-normal weights (stddev sqrt(2 / fan_in)) and small normal biases, from `seed`.
Weights random_weights(uint64_t seed);
TensorMap weight_tensors(const Weights& weights);
void save_weights(const std::string& path, const Weights& weights);

// A batch of n 1x28x28 images with pixels uniform in [0, 1) and labels 0..9.
struct Batch {
  int count = 0;
  std::vector<float> input;      // [count, 1, 28, 28]
  std::vector<int64_t> labels;   // [count]
};
Batch random_batch(int count, uint64_t seed);
// 'input' F32 [n, 1, 28, 28] and (when with_labels) 'labels' I64 [n].
void save_batch(const std::string& path, const Batch& batch, bool with_labels = true);

// Reads tensor `name` of a safetensors file as F32 values and checks its shape.
std::vector<float> read_f32(const std::string& path, const std::string& name,
                            const std::vector<int64_t>& shape);

bool contains(const std::string& text, const std::string& part);
// The number right after the last (or, first = true, the first) `label` in text;
// fails the test when the label is missing.
double number_after(const std::string& text, const std::string& label, bool first = false);

}  // namespace kiln::test
