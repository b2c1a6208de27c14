// Schedules: how the Funcs of a lowered model run on a target. The algorithm
// (generators/) never mentions the target; everything about loops, layouts, vectors
// and threads lives here, keyed by op kind and role.
#pragma once
#include "generators/graph.hpp"

#include <string_view>

namespace kiln::schedules {

// attention: an inference pass whose output is a node's attention (entries.hpp).
enum class Entry { forward, gradients, train_step, attention };

// The Funcs an entry returns; the policy schedules them and everything they read.
struct EntryOutputs {
  std::vector<Halide::Func> outputs;  // output Funcs, in order (GuardWithIf tails)
  Halide::Func updated;               // train_step: the optimizer pass (may be undefined)
  Halide::Expr optimizer;             // train_step: the optimizer kind, to specialize on
  // forward: input and output images are channels-last (gen::nchw_view, gen::channels_last).
  bool channels_last = false;
  // train_step: the gradient's squared norm (gen::OptimizerFuncs), for clipping.
  Halide::Func norm_partial, norm;
};

// The hand policy for CPUs with SIMD (x86 AVX2/AVX-512, ARM NEON), activations stored
// batch-innermost: for small nets trained in large batches (LeNet-5 at 64).
void cpu_simd(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
              const EntryOutputs& outputs, const Halide::Target& target);

// The hand policy for wide conv nets at any batch (ResNet at 1), activations stored
// channels-innermost.
void cpu_channels(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
                  const EntryOutputs& outputs, const Halide::Target& target);

// The hand policy for sequence models (tokens, recurrent layers): features innermost,
// matrix products in register tiles (cpu_sequence.cpp).
void cpu_sequence(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
                  const EntryOutputs& outputs, const Halide::Target& target);

// The GPU policy's knobs, in one place (generator params of every entry, so a build or
// the tuner can set them): threads per block of every kernel.
struct GpuKnobs {
  int threads = 128;
};

// The hand policy for GPU targets (CUDA, OpenCL): a kernel per materialized Func,
// elementwise chains fused into their readers (gpu.cpp).
void gpu_policy(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
                const EntryOutputs& outputs, const GpuKnobs& knobs);

// The policies that lower every conv directly (all but cpu_channels so far) refuse a
// model built with another lowering (gen::ConvLowering): std::invalid_argument naming the
// layer, its lowering and the policy.
void require_direct_convs(const ModelView& model, const gen::LoweredModel& lowered,
                          std::string_view policy);

// Which CPU policy a model gets (see README.md): "batch" or "channels" as asked, or for
// "auto" the rule channels_innermost() states.
enum class CpuLayout { batch_innermost, channels_innermost };
CpuLayout cpu_layout(std::string_view asked, const ModelView& model, int batch_estimate);

// The policy an entry gets (tune::policy_name: "gpu", "sequence", "channels", "batch"),
// the name tuned records are keyed by.
std::string_view policy_name(const ModelView& model, const Halide::Target& target, CpuLayout layout);

// Picks the CPU policy: cpu_sequence for a sequence model (tokens, embeddings, recurrent
// layers), otherwise by cpu_layout() (an image model's region layers, after roi_align or roi_pool, are
// scheduled as cpu_sequence schedules them).
void cpu_policy(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
                const EntryOutputs& outputs, const Halide::Target& target, CpuLayout layout);

}  // namespace kiln::schedules
