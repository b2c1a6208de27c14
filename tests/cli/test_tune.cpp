// kiln tune end to end on small models: widenet (the channels-innermost policy) killed
// part way and run again measures nothing twice, writes a record that fits the model, and
// --report prints it and draws its chart; LeNet-5's train_step (the batch-innermost
// policy) tunes its training-only knobs too.
#include "cli/support.hpp"
#include "runtime/files.hpp"
#include "runtime/image.hpp"
#include "tune/knobs.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

namespace {
using namespace kiln;
using namespace kiln::test;
namespace fs = std::filesystem;

// The journal's candidates (its first word per line), each once.
std::vector<std::string> journal_of(const std::string& work) {
  std::vector<std::string> candidates;
  for (const auto& dir : fs::directory_iterator(work)) {
    std::istringstream lines(read_file((dir.path() / "journal.txt").string(), "journal"));
    for (std::string line; std::getline(lines, line);) candidates.push_back(line.substr(0, line.find(' ')));
  }
  return candidates;
}

TEST_CASE("kiln tune: killed and run again it measures nothing twice; its record fits; --report reads it",
          "[cli][tune]") {
  ScratchDir dir;
  const std::string record = dir.path("widenet.forward.txt"), work = dir.path("work"), chart = dir.path("chart.png");
  const std::string flags = " --batch 1 --jobs 2 --calls 5 --seconds 0.3 --work '" + work + "' --record '" + record + "'";
  // Killed (SIGKILL: no chance to tidy up) 30 s into a longer tune, after its first
  // group of profiles.
  const int killed = std::system(("timeout -s KILL 30 '" KILN_BINARY "' tune widenet --budget 120s" + flags +
                                  " > /dev/null 2>&1").c_str());
  CHECK(killed != 0);
  CHECK(!fs::exists(record));
  const std::vector<std::string> before = journal_of(work);
  INFO(before.size() << " candidates measured before the kill");
  CHECK(!before.empty());

  const KilnRun tuned = run_kiln({"tune", "widenet", "--budget", "20s", "--batch", "1", "--jobs", "2", "--calls", "5",
                                  "--seconds", "0.3", "--work", work, "--record", record});
  INFO(tuned.out << tuned.err);
  REQUIRE(tuned.status == 0);
  CHECK(contains(tuned.out, std::to_string(before.size()) + " candidates measured before"));
  const std::vector<std::string> after = journal_of(work);
  CHECK(after.size() >= before.size());
  CHECK(std::set<std::string>(after.begin(), after.end()).size() == after.size());  // none measured twice
  for (std::size_t k = 0; k < before.size(); ++k) CHECK(after[k] == before[k]);

  const tune::TunedRecord r = tune::parse_record(read_file(record, "record"));
  CHECK(r.model == "widenet");
  CHECK(r.entry == "forward");
  CHECK(r.batch == 1);
  CHECK(r.policy == "channels");
  CHECK(r.layers.size() == 7);  // widenet's convs
  CHECK(r.default_ms > 0);
  CHECK(r.tuned_ms > 0);
  CHECK(r.tuned_ms <= r.default_ms);
  for (const tune::TunedLayer& l : r.layers) CHECK(l.signature.rfind("conv2d ", 0) == 0);

  const KilnRun report = expect_success({"tune", "widenet", "--report", "--record", record, "--chart", chart});
  INFO(report.out);
  CHECK(contains(report.out, "widenet forward on host at batch 1"));
  CHECK(contains(report.out, "layer"));
  CHECK(contains(report.out, "verdict"));
  const Image png = load_png(chart);
  CHECK(png.width >= 260);
}

TEST_CASE("kiln tune: LeNet-5's train_step at batch 64, on the batch-innermost policy", "[cli][tune]") {
  ScratchDir dir;
  const std::string record = dir.path("lenet5.train_step.txt");
  const KilnRun tuned = run_kiln({"tune", "lenet5", "--entry", "train_step", "--batch", "64", "--budget", "25s",
                                  "--seconds", "0.2", "--work", dir.path("work"), "--record", record});
  INFO(tuned.out << tuned.err);
  REQUIRE(tuned.status == 0);
  const tune::TunedRecord r = tune::parse_record(read_file(record, "record"));
  CHECK(r.entry == "train_step");
  CHECK(r.policy == "batch");
  CHECK(r.batch == 64);
  REQUIRE(r.layers.size() == 5);  // two convs, three dense layers
  CHECK(r.layers[0].signature == "conv2d 1x28x28->6x28x28");
  CHECK(r.layers[4].signature == "dense 84->10");
  CHECK(r.default_ms > 0);
  CHECK(r.tuned_ms <= r.default_ms);
}

TEST_CASE("kiln tune: bad requests are one-line errors", "[cli][tune]") {
  ScratchDir dir;
  // char-rnn gets the sequence policy, which declares no knobs yet.
  expect_failure(dir, {"tune", "char_rnn", "--budget", "5s"}, {"declares no knobs", "char_rnn"});
  expect_failure(dir, {"tune", "widenet", "--seconds", "0"}, {"--seconds", "0"});
  expect_failure(dir, {"tune", "widenet", "--budget", "soon"}, {"--budget", "soon"});
  expect_failure(dir, {"tune", "widenet", "--target", "cuda"}, {"--target", "cuda"});
  expect_failure(dir, {"tune", "widenet", "--entry", "backward"}, {"--entry", "backward"});
  expect_failure(dir, {"tune", "widenet", "--report", "--record", dir.path("none.txt")}, {"none.txt"});
}

}  // namespace
