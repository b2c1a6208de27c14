// Tuning knobs and tuned records (tune/knobs.hpp): the knobs each layer declares, a
// record's round trip through its text, and records that are stale (a layer renamed or
// reshaped), corrupt or for another build, which are rejected with a one-line reason and
// leave the default schedule.
#include "tune/knobs.hpp"

#include "dsl/kiln.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace kiln::knobtest {

inline constexpr auto net = checked<model("net", input(8, 12, 12),
    conv2d(32, 3, pad(1)).named("a"), relu,
    conv2d(32, 3, pad(1), stride(2)).named("b"), relu,   // 32 x 6 x 6
    flatten, dense(4).named("fc"), softmax_cross_entropy)>;
// The same net with layer a renamed, and with b reshaped.
inline constexpr auto renamed = checked<model("net", input(8, 12, 12),
    conv2d(32, 3, pad(1)).named("a2"), relu, conv2d(32, 3, pad(1), stride(2)).named("b"), relu,
    flatten, dense(4).named("fc"), softmax_cross_entropy)>;
inline constexpr auto reshaped = checked<model("net", input(8, 12, 12),
    conv2d(32, 3, pad(1)).named("a"), relu, conv2d(16, 3, pad(1), stride(2)).named("b"), relu,
    flatten, dense(4).named("fc"), softmax_cross_entropy)>;

// A conv read only by a batch norm (cpu_channels fuses them in inference).
inline constexpr auto fused = checked<model("fused", input(4, 6, 6),
    conv2d(8, 3, pad(1)).named("c"), batch_norm().named("bn"), relu, flatten, dense(2), softmax_cross_entropy)>;

namespace {
using namespace tune;

TunedRecord example() {
  TunedRecord r;
  r.model = "net";
  r.entry = "forward";
  r.target = "host";
  r.policy = "channels";
  r.batch = 1;
  r.layers = {{"a", "conv2d 8x12x12->32x12x12", {{"lowering", "winograd"}, {"tile", "2x6"}}, 0.125, 0.0625, 4, 0.0625},
              {"b", "conv2d 32x12x12->32x6x6", {{"lowering", "im2col"}, {"tasks", "tiles"}}, 0.5, 0.25, 3, 0.1875}};
  r.default_ms = 1.5;
  r.tuned_ms = 1.25;
  return r;
}

int node_named(const ModelView& m, std::string_view name) {
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    if (m.nodes[i].name.view() == name) return int(i);
  return -1;
}

TEST_CASE("the channels policy declares lowering, tile and tasks knobs for its convs only", "[knobs]") {
  const ModelView m = view_of<net>();
  const std::vector<KnobSpec> a = knobs_of("channels", m, node_named(m, "a"));
  REQUIRE(a.size() == 3);
  CHECK(a[0].name == "lowering");
  CHECK(a[0].values == std::vector<std::string>{"direct", "im2col", "winograd"});
  CHECK(a[1].name == "tile");
  CHECK(a[1].values.front() == "rule");
  for (std::size_t k = 1; k < a[1].values.size(); ++k) {  // pixels dividing 12 (or its 6 tiles)
    const TileKnob t = tile_knob(a[1].values[k]);
    CHECK((12 % t.pixels == 0 || 6 % t.pixels == 0));
  }
  CHECK(a[2].values == std::vector<std::string>{"rule", "rows", "tiles"});
  // b is strided: no winograd.
  CHECK(knobs_of("channels", m, node_named(m, "b"))[0].values == std::vector<std::string>{"direct", "im2col"});
  CHECK(knobs_of("channels", m, node_named(m, "fc")).empty());
  CHECK(layer_signature(m, node_named(m, "b")) == "conv2d 32x12x12->32x6x6");
  CHECK(tile_knob("rule").pixels == 0);
  CHECK(tile_knob("3x5").vectors == 3);
  CHECK(tile_knob("3x5").pixels == 5);
}

TEST_CASE("the batch policy declares register tiles for its convs and dense layers", "[knobs]") {
  const ModelView m = view_of<net>();
  const std::vector<KnobSpec> a = knobs_of("batch", m, node_named(m, "a"));
  REQUIRE(a.size() == 3);
  CHECK(a[0].name == "tile");
  CHECK(!a[0].gradients);
  CHECK(a[1].name == "d_in_tile");
  CHECK(a[1].gradients);
  CHECK(a[2].name == "d_weight");
  CHECK(a[2].gradients);
  // tile: C output channels (dividing 32) by P pixels, 4 to 24 accumulators; d_in_tile
  // over the 8 input channels.
  for (int k : {0, 1}) {
    CHECK(a[k].values.front() == "rule");
    for (std::size_t v = 1; v < a[k].values.size(); ++v) {
      const TileKnob t = tile_knob(a[k].values[v]);
      CHECK((k == 0 ? 32 : 8) % t.vectors == 0);
      CHECK(t.vectors * t.pixels >= 4);
      CHECK(t.vectors * t.pixels <= 24);
      CHECK(t.pixels <= 4);
    }
  }
  CHECK(std::count(a[1].values.begin(), a[1].values.end(), "8x3") == 1);
  CHECK(std::count(a[1].values.begin(), a[1].values.end(), "16x1") == 0);
  // d_weight: 3, 2 or 1 kernel columns by up to 8 output channels.
  CHECK(std::count(a[2].values.begin(), a[2].values.end(), "3x4") == 1);
  CHECK(std::count(a[2].values.begin(), a[2].values.end(), "2x2") == 1);
  CHECK(std::count(a[2].values.begin(), a[2].values.end(), "1x8") == 1);
  CHECK(std::count(a[2].values.begin(), a[2].values.end(), "1x2") == 0);  // 2 accumulators
  const std::vector<KnobSpec> fc = knobs_of("batch", m, node_named(m, "fc"));
  REQUIRE(fc.size() == 2);
  CHECK(fc[0].values == std::vector<std::string>{"rule", "4x1"});  // 4 features
  CHECK(fc[1].values.back() == "24x1");                            // 1152 inputs
  CHECK(knobs_of("sequence", m, node_named(m, "a")).empty());
  CHECK(knobs_of("gpu", m, node_named(m, "a")).empty());
  // The batch norm that alone reads a conv (none here: relu reads each).
  CHECK(sole_batch_norm_reader(m, node_named(m, "a")) == -1);
  const ModelView f = view_of<fused>();
  CHECK(sole_batch_norm_reader(f, node_named(f, "c")) == node_named(f, "bn"));
}

TEST_CASE("a tuned record round-trips through its text, and fits the model it was tuned on", "[knobs]") {
  const TunedRecord r = example();
  const std::string text = record_text(r);
  const TunedRecord back = parse_record(text);
  CHECK(record_text(back) == text);
  CHECK(back.model == "net");
  CHECK(back.batch == 1);
  REQUIRE(back.layers.size() == 2);
  CHECK(back.layers[0].knobs.at("lowering") == "winograd");
  CHECK(back.layers[1].tuned_ms == 0.25);
  CHECK(back.layers[1].tried == 3);
  CHECK(back.layers[1].best_ms == 0.1875);
  CHECK(back.default_ms == 1.5);
  CHECK(record_mismatch(back, view_of<net>(), "forward", "channels").empty());
  const Knobs k = back.knobs();
  CHECK(knob(k, "a", "tile") == "2x6");
  CHECK(knob(k, "b", "tile") == "rule");
  CHECK(knob(k, "fc", "lowering") == "rule");
}

TEST_CASE("stale records and records for another build do not fit, and say why", "[knobs]") {
  const TunedRecord r = example();
  CHECK(record_mismatch(r, view_of<renamed>(), "forward", "channels") == "the model has no layer a");
  CHECK(record_mismatch(r, view_of<reshaped>(), "forward", "channels") ==
        "layer b is now conv2d 32x12x12->16x6x6, not conv2d 32x12x12->32x6x6");
  CHECK(record_mismatch(r, view_of<net>(), "train_step", "channels") == "it is for the forward entry, not train_step");
  CHECK(record_mismatch(r, view_of<net>(), "forward", "batch") == "it was tuned for the channels policy, not batch");
  TunedRecord bad_value = r;
  bad_value.layers[1].knobs["lowering"] = "winograd";  // b is strided
  CHECK(record_mismatch(bad_value, view_of<net>(), "forward", "channels") ==
        "layer b: lowering=winograd is not one of its values");
  TunedRecord bad_knob = r;
  bad_knob.layers[0].knobs["unroll"] = "4";
  CHECK(record_mismatch(bad_knob, view_of<net>(), "forward", "channels") == "layer a has no knob unroll");
}

TEST_CASE("corrupt records are errors naming the line", "[knobs]") {
  const std::string good = record_text(example());
  auto error_of = [](const std::string& text) {
    try {
      parse_record(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("") == "incomplete: a record names its model, entry, target, batch and policy, then its entry_ms, and ends with 'end'");
  CHECK(error_of(good + "model other\n") == "line " + std::to_string(std::count(good.begin(), good.end(), '\n') + 1) + ": text after 'end'");
  for (std::size_t cut = 1; cut + 1 < good.size(); ++cut)  // truncated anywhere
    CHECK(error_of(good.substr(0, cut)) != "no error");
  CHECK(error_of("model net\nbatch two\n") == "line 2: 'two' is not a non-negative number");
  CHECK(error_of("model net\nweights 3\n") == "line 2: unknown field 'weights'");
  CHECK(error_of("model net\nlayer a conv2d\n") == "line 2: expected 'layer NAME OP IN->OUT knob=value ...'");
  CHECK(error_of("model net\nlayer a conv2d 1->2 lowering\n") == "line 2: 'lowering' is not knob=value");
  CHECK(error_of("model net\nlayer a conv2d 1->2 tuned_ms=-1\n") == "line 2: '-1' is not a non-negative number");
}

TEST_CASE("tuned_knobs: a record that fits gives its knobs; any other a warning and none", "[knobs]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "kiln_test_knobs";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const std::string good = write("good.txt", record_text(example()));
  std::ostringstream warnings;
  std::streambuf* old = std::cerr.rdbuf(warnings.rdbuf());
  const Knobs fits = tuned_knobs(good, view_of<net>(), "forward", "channels", 1);
  const Knobs other_batch = tuned_knobs(good, view_of<net>(), "forward", "channels", 64);
  const Knobs stale = tuned_knobs(good, view_of<renamed>(), "forward", "channels", 1);
  const std::string corrupt = write("corrupt.txt", "model net\nbatch 1\nlayer x\n");
  const Knobs broken = tuned_knobs(corrupt, view_of<net>(), "forward", "channels", 1);
  const Knobs missing = tuned_knobs((dir / "none.txt").string(), view_of<net>(), "forward", "channels", 1);
  std::cerr.rdbuf(old);
  CHECK(knob(fits, "a", "lowering") == "winograd");
  CHECK(other_batch.empty());
  CHECK(stale.empty());
  CHECK(broken.empty());
  CHECK(missing.empty());
  const std::string w = warnings.str();
  CHECK(w == "kiln: warning: " + good + ": it was tuned at batch 1, this build plans for 64; building with the default schedule\n" +
                 "kiln: warning: " + good + ": the model has no layer a; building with the default schedule\n" +
                 "kiln: warning: " + corrupt + ": line 3: expected 'layer NAME OP IN->OUT knob=value ...'; building with the default schedule\n" +
                 "kiln: warning: " + (dir / "none.txt").string() + ": cannot be read; building with the default schedule\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln::knobtest
