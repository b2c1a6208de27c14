#include "cli/support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "runtime/safetensors.hpp"

extern char** environ;

namespace kiln::test {

namespace {

// Where run_kiln puts the child's stdout and stderr; kept apart from the directories
// whose listings the tests check.
const ScratchDir& capture_dir() {
  static ScratchDir dir;
  return dir;
}

std::string quoted_command(const std::vector<std::string>& args) {
  std::string command = "kiln";
  for (const std::string& a : args) command += a.find(' ') == std::string::npos ? " " + a : " '" + a + "'";
  return command;
}

}  // namespace

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

double number_after(const std::string& text, const std::string& label, bool first) {
  const std::size_t at = first ? text.find(label) : text.rfind(label);
  INFO("no '" << label << "' in: " << text);
  REQUIRE(at != std::string::npos);
  return std::stod(text.substr(at + label.size()));
}

KilnRun run_kiln(const std::vector<std::string>& args) {
  KilnRun run;
  run.command = quoted_command(args);
  const std::string out_path = capture_dir().path("stdout"), err_path = capture_dir().path("stderr");

  std::vector<std::string> argv_storage{KILN_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, KILN_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) FAIL("cannot run " << KILN_BINARY << ": " << std::strerror(spawned));

  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0)
    if (errno != EINTR) FAIL("waitpid: " << std::strerror(errno));
  run.signalled = WIFSIGNALED(wait_status);
  run.status = run.signalled ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
  run.out = read_bytes(out_path);
  run.err = read_bytes(err_path);
  return run;
}

KilnRun expect_success(const std::vector<std::string>& args) {
  KilnRun run = run_kiln(args);
  INFO(run.command << "\nstdout: " << run.out << "\nstderr: " << run.err);
  REQUIRE(run.status == 0);
  REQUIRE(run.err.empty());
  return run;
}

std::string expect_failure(const ScratchDir& dir, const std::vector<std::string>& args,
                           const std::vector<std::string>& mentions, const std::string& out) {
  const std::vector<std::string> before = dir.listing();
  if (!out.empty()) {
    REQUIRE(std::find(args.begin(), args.end(), out) != args.end());
    REQUIRE_FALSE(std::filesystem::exists(out));
  }
  const KilnRun run = run_kiln(args);
  INFO(run.command << "\nexit status: " << run.status << "\nstdout: " << run.out
                   << "\nstderr: " << run.err);
  CHECK_FALSE(run.signalled);
  CHECK(run.status != 0);
  // One line: text ending in the only newline.
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  CHECK((!run.err.empty() && run.err.back() == '\n'));
  CHECK(run.err.rfind("kiln", 0) == 0);
  for (const std::string& m : mentions) {
    INFO("stderr should mention: " << m);
    CHECK(contains(run.err, m));
  }
  // Nothing new (no output, no temp file) and nothing removed.
  CHECK(dir.listing() == before);

  if (!out.empty()) {
    const std::string precious = "an earlier result that a failed run must not clobber\n";
    write_bytes(out, precious);
    const KilnRun again = run_kiln(args);
    INFO("second run, with " << out << " already there\nstderr: " << again.err);
    CHECK(again.status != 0);
    CHECK(again.err == run.err);
    CHECK(read_bytes(out) == precious);
    std::filesystem::remove(out);
    CHECK(dir.listing() == before);
  }
  return run.err;
}

int64_t ParameterSpec::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const std::vector<ParameterSpec>& lenet5_parameters() {
  static const std::vector<ParameterSpec> table{
      {"conv1.weight", {6, 1, 5, 5}}, {"conv1.bias", {6}},
      {"conv2.weight", {16, 6, 5, 5}}, {"conv2.bias", {16}},
      {"fc1.weight", {120, 400}},      {"fc1.bias", {120}},
      {"fc2.weight", {84, 120}},       {"fc2.bias", {84}},
      {"fc3.weight", {10, 84}},        {"fc3.bias", {10}},
  };
  return table;
}

Weights random_weights(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Weights weights;
  for (const ParameterSpec& p : lenet5_parameters()) {
    const bool bias = p.shape.size() == 1;
    const int64_t fan_in = bias ? 1 : p.size() / p.shape[0];
    std::normal_distribution<double> normal(0.0, bias ? 0.05 : std::sqrt(2.0 / double(fan_in)));
    std::vector<float>& v = weights[p.name];
    for (int64_t k = 0; k < p.size(); ++k) v.push_back(float(normal(rng)));
  }
  return weights;
}

TensorMap weight_tensors(const Weights& weights) {
  TensorMap tensors;
  for (const ParameterSpec& p : lenet5_parameters())
    tensors[p.name] = f32_tensor(p.shape, weights.at(p.name));
  return tensors;
}

void save_weights(const std::string& path, const Weights& weights) {
  save_safetensors(path, weight_tensors(weights));
}

Batch random_batch(int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<int64_t> label(0, 9);
  Batch b;
  b.count = count;
  for (int k = 0; k < count * 28 * 28; ++k) b.input.push_back(pixel(rng));
  for (int k = 0; k < count; ++k) b.labels.push_back(label(rng));
  return b;
}

void save_batch(const std::string& path, const Batch& batch, bool with_labels) {
  TensorMap tensors;
  tensors["input"] = f32_tensor({batch.count, 1, 28, 28}, batch.input);
  if (with_labels) tensors["labels"] = i64_tensor({batch.count}, batch.labels);
  save_safetensors(path, tensors);
}

std::vector<float> read_f32(const std::string& path, const std::string& name,
                            const std::vector<int64_t>& shape) {
  const SafetensorsFile file = load_safetensors(path);
  const auto found = file.tensors.find(name);
  INFO(path << ": tensor " << name);
  REQUIRE(found != file.tensors.end());
  REQUIRE(found->second.dtype == DType::F32);
  REQUIRE(found->second.shape == shape);
  return tensor_floats(found->second, name, path);
}

}  // namespace kiln::test
