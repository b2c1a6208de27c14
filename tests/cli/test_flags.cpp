// Bad command lines: unknown commands, models, optimizers, schedules and flags, and
// numbers that do not parse. Each is one stderr line naming the flag or name, a non-zero
// exit, and no checkpoint written. Training never starts, so these are fast; `--data`
// points nowhere so that a flag that is wrongly accepted fails on the data instead of
// training for minutes.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <filesystem>

#include "cli/support.hpp"

using namespace kiln::test;

namespace {

struct TrainCase {
  ScratchDir dir;
  std::string out = dir.path("checkpoint.safetensors");
  std::string no_data = dir.path("no-data");
  // `kiln train lenet5 <extra> --out OUT --data NO_DATA`
  std::vector<std::string> train(std::vector<std::string> extra) const {
    std::vector<std::string> args{"train", "lenet5"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--out", out, "--data", no_data});
    return args;
  }
};

}  // namespace

TEST_CASE("flags: an unknown command lists the known ones") {
  ScratchDir dir;
  expect_failure(dir, {"frobnicate", "lenet5"}, {"unknown command 'frobnicate'", "train", "gradients"});
  expect_failure(dir, {"--epochs", "3"}, {"unknown command '--epochs'"});
}

TEST_CASE("flags: an unknown model lists the known ones") {
  TrainCase c;
  expect_failure(c.dir, {"train", "resnet51", "--out", c.out}, {"unknown model 'resnet51'", "lenet5"}, c.out);
  const std::string out = c.dir.path("y.safetensors");
  expect_failure(c.dir, {"forward", "lenet", "--weights", "w", "--inputs", "x", "--out", out},
                 {"unknown model 'lenet'", "(known: ", "lenet5"}, out);  // the list is sorted
  expect_failure(c.dir, {"eval", "LeNet5", "--weights", "w"}, {"unknown model 'LeNet5'"});
  expect_failure(c.dir, {"train"}, {"name a model", "lenet5"});
}

TEST_CASE("flags: an unknown optimizer or learning-rate schedule names the flag") {
  TrainCase c;
  expect_failure(c.dir, c.train({"--optimizer", "foo"}),
                 {"--optimizer", "unknown optimizer 'foo'", "adam", "sgd"}, c.out);
  expect_failure(c.dir, c.train({"--optimizer", "Adam"}), {"--optimizer", "'Adam'"}, c.out);
  expect_failure(c.dir, c.train({"--lr-schedule", "linear"}),
                 {"--lr-schedule", "unknown schedule 'linear'", "cosine"}, c.out);
}

TEST_CASE("flags: an unknown flag lists the command's flags") {
  TrainCase c;
  expect_failure(c.dir, c.train({"--epoch", "1"}), {"unknown flag --epoch", "--epochs"}, c.out);
  expect_failure(c.dir, c.train({"--weights", "w.safetensors"}), {"unknown flag --weights"}, c.out);
  const std::string out = c.dir.path("y.safetensors");
  expect_failure(c.dir, {"forward", "lenet5", "--weights", "w", "--inputs", "x", "--out", out, "--lr", "1"},
                 {"unknown flag --lr", "--weights"}, out);
}

TEST_CASE("flags: a flag without its value") {
  TrainCase c;
  std::vector<std::string> args{"train", "lenet5", "--out", c.out, "--data", c.no_data, "--epochs"};
  expect_failure(c.dir, args, {"--epochs needs a value"}, c.out);
}

TEST_CASE("flags: numbers that do not parse or are out of range name the flag and the text") {
  TrainCase c;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--epochs", "abc"}, "--epochs expects a positive integer, got 'abc'"},
      {{"--epochs", "0"}, "--epochs expects a positive integer, got '0'"},
      {{"--epochs", "2.5"}, "--epochs expects a positive integer, got '2.5'"},
      {{"--epochs", "3x"}, "--epochs expects a positive integer, got '3x'"},
      {{"--epochs", ""}, "--epochs needs a value, got an empty one"},
      {{"--epochs", "99999999999"}, "--epochs expects a positive integer, got '99999999999'"},
      {{"--epochs=-2"}, "--epochs expects a positive integer, got '-2'"},
      {{"--batch", "-64"}, "--batch expects a positive integer, got '-64'"},
      {{"--lr", "-1"}, "--lr expects a positive number, got '-1'"},
      {{"--lr", "0"}, "--lr expects a positive number, got '0'"},
      {{"--lr", "nan"}, "--lr expects a positive number, got 'nan'"},
      {{"--lr", "inf"}, "--lr expects a positive number, got 'inf'"},
      {{"--lr", "1e-3x"}, "--lr expects a positive number, got '1e-3x'"},
      {{"--weight-decay", "-0.1"}, "--weight-decay expects a non-negative number, got '-0.1'"},
      {{"--augment", "two"}, "--augment expects a non-negative integer, got 'two'"},
      {{"--seed", "-5"}, "--seed expects a non-negative integer, got '-5'"},
  };
  for (const auto& [flags, message] : cases) {
    DYNAMIC_SECTION(flags[0] << " " << (flags.size() > 1 ? flags[1] : "")) {
      expect_failure(c.dir, c.train(flags), {message}, c.out);
    }
  }
}

TEST_CASE("flags: a missing data directory is named") {
  TrainCase c;
  expect_failure(c.dir, c.train({"--epochs", "1"}), {c.no_data}, c.out);
}

TEST_CASE("flags: an unknown target names the target") {
  TrainCase c;
  expect_failure(c.dir, c.train({"--target", "tpu"}), {"target 'tpu'", "host"}, c.out);
}

// A GPU target whose device is absent: one line naming the target, before any data is
// read. This machine has no CUDA driver (none in CI); where one is, this is skipped.
TEST_CASE("flags: a target whose device is absent says so") {
  if (dlopen("libcuda.so.1", RTLD_LAZY) || dlopen("libcuda.so", RTLD_LAZY)) return;
  TrainCase c;
  expect_failure(c.dir, c.train({"--target", "cuda"}), {"target cuda", "no CUDA driver"}, c.out);
}

// Arguments after the model were once silently dropped: `kiln train lenet5 -epochs 1`
// trained for the default 20 epochs, and `kiln train lenet5 5` ignored the 5.
TEST_CASE("a stray positional argument is refused, not ignored", "[cli]") {
  TrainCase c;
  expect_failure(c.dir, c.train({"-epochs", "1"}), {"-epochs"}, c.out);
  expect_failure(c.dir, c.train({"extra"}), {"extra"}, c.out);
  ScratchDir weights_dir;
  expect_failure(c.dir, {"eval", "lenet5", "stray", "--weights", weights_dir.path("none"), "--data", c.no_data},
                 {"stray"});
  expect_failure(c.dir, {"models", "stray"}, {"stray"});
}

// A batch larger than the training set once got the BatchSampler's message, which does
// not name the flag.
TEST_CASE("a batch larger than the training set names --batch", "[cli]") {
  TrainCase c;
  std::vector<std::string> args{"train", "lenet5", "--batch", "10000", "--epochs", "1", "--out", c.out};
  expect_failure(c.dir, args, {"--batch", "10000", "8000"}, c.out);
}
