// Tuning knobs (kiln tune): what a schedule policy lets a tuner change per layer, declared
// here once with the values each may take; which policy a model gets; and the tuned
// record — plain text under schedules/tuned/<target>/<model>.<entry>.txt — that keeps a
// tuner's choices and times. No Halide here: the generators, the schedules and the
// kiln command all read it.
//
// A knob's first value is the policy's own rule ("rule"), which a layer gets when the
// record says nothing. The channels-innermost CPU policy (cpu_channels.cpp) declares, for
// its conv2d layers:
//   lowering  direct | im2col | winograd       how the conv is computed (ConvLowering;
//                                               winograd where winograd_applies)
//   tile      rule | VxP                        register tile: V vectors of output channels
//                                               by P pixels (P dividing the row; for
//                                               winograd, rows of 2 x 2 tiles)
//   tasks     rule | rows | tiles               direct and im2col: the parallel loop runs
//                                               over rows of the image, or over tiles of
//                                               output channels (rows inside)
// The batch-innermost CPU policy (cpu_simd.cpp), where each vector lane is a sample,
// declares for its conv2d and dense layers:
//   tile       rule | CxP   the output's register tile: C channels (a divisor of the
//                           layer's) by P pixels (dense: C features, P 1)
//   d_in_tile  rule | CxP   the same for the input's gradient (training entries only)
//   d_weight   rule | KxO   conv2d: the weight gradient's tile of K kernel columns by O
//                           output channels (training entries only)
#pragma once
#include "dsl/model_view.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::tune {

// How a conv2d layer is computed (generators/ops/conv2d.cpp): the same sums in a
// different shape of work, chosen per layer by its "lowering" knob.
enum class ConvLowering { direct, im2col, winograd };
std::string_view lowering_name(ConvLowering l);
// The lowering called `name`, or none for an unknown name.
std::optional<ConvLowering> lowering_named(std::string_view name);
// Winograd F(2x2, 3x3) lowers 3x3 convs of stride 1, dilation 1 and one group.
bool winograd_applies(const Node& conv);

// The knobs chosen per layer: layer name -> knob name -> value. Absent knobs take the
// policy's rule.
using LayerKnobs = std::map<std::string, std::string, std::less<>>;
using Knobs = std::map<std::string, LayerKnobs, std::less<>>;
// A knob's value, or "rule".
std::string_view knob(const Knobs& knobs, std::string_view layer, std::string_view name);

// The rule that picks a CPU policy's layout (README.md): "channels" (channels innermost)
// when a conv is at least two AVX-512 vectors wide or the batch too small to fill one
// vector, else "batch"; `asked` "channels" or "batch" overrides "auto".
// std::invalid_argument for anything else.
std::string_view cpu_layout_name(std::string_view asked, const ModelView& model, int batch_estimate);
// The policy an entry gets: "gpu" on a GPU target, else "sequence" for a sequence model
// (tokens, embeddings, recurrent layers), else the layout's: "channels" or "batch". Tuned
// records are keyed by it.
std::string_view policy_name(const ModelView& model, bool gpu, std::string_view cpu_layout, int batch_estimate);

struct KnobSpec {
  std::string name;
  std::vector<std::string> values;  // values[0]: the policy's rule
  bool gradients = false;           // only entries that take gradients build what it sets
};

// The knobs `policy` ("channels", "batch", "sequence", "gpu") declares for node i of the
// model (none for most nodes and policies).
std::vector<KnobSpec> knobs_of(std::string_view policy, const ModelView& model, int node);

// The batch norm that alone reads node i's output, or -1: in inference cpu_channels
// stores a conv's register tiles through it (conv and batch norm fused), so a tuner
// charges the batch norm's time to the conv.
int sole_batch_norm_reader(const ModelView& model, int node);

// A tile knob's "VxP" (or "CxP", "KxO") as {V, P}; {0, 0} for "rule".
struct TileKnob {
  int vectors = 0, pixels = 0;
};
TileKnob tile_knob(std::string_view value);

// A layer's identity in a record: its op and input and output shapes,
// "conv2d 64x56x56->64x56x56". A record whose layer no longer has it is stale.
std::string layer_signature(const ModelView& model, int node);

// A tuned record: what was tuned (model, entry, target, batch, policy), each tuned layer's
// signature, chosen knobs and times, and the whole entry's times (milliseconds). A layer's
// times are its share of the entry: default_ms by the default build's profile, tuned_ms
// that less what the chosen knobs saved, best_ms that less what the best of the `tried`
// alternatives saved, each saving measured end to end against the build without it.
struct TunedLayer {
  std::string name, signature;
  LayerKnobs knobs;
  double default_ms = 0, tuned_ms = 0;
  int tried = 0;
  double best_ms = 0;
};
struct TunedRecord {
  std::string model, entry, target, policy;
  int batch = 0;
  std::vector<TunedLayer> layers;
  double default_ms = 0, tuned_ms = 0;  // the whole entry
  Knobs knobs() const;
};

// The record as text, its last line 'end' (parse_record reads it back exactly; a
// truncated record lacks the end).
std::string record_text(const TunedRecord& record);
// The text of a record; std::invalid_argument "line N: ..." for anything malformed.
TunedRecord parse_record(std::string_view text);
// Why the record does not fit this model and policy, or "" when it does: another model,
// entry or policy, a layer the model lacks, a layer whose signature changed, a knob the
// policy does not declare for it or a value it does not allow.
std::string record_mismatch(const TunedRecord& record, const ModelView& model, std::string_view entry,
                            std::string_view policy);

// The knobs of the record at `path` for a build of the model's `entry` under `policy` at
// this batch estimate; where the file is unreadable, malformed, or does not fit (another
// batch, record_mismatch), none, after one line on stderr: "kiln: warning: PATH: WHY;
// building with the default schedule".
Knobs tuned_knobs(const std::string& path, const ModelView& model, std::string_view entry,
                  std::string_view policy, int batch_estimate);

}  // namespace kiln::tune
