// Schedules: how the Funcs of a lowered model run on a target. The algorithm
// (generators/) never mentions the target; everything about loops, layouts, vectors
// and threads lives here, keyed by op kind and role.
#pragma once
#include "generators/graph.hpp"

namespace kiln::schedules {

enum class Entry { forward, gradients, train_step };

// The Funcs an entry returns; the policy schedules them and everything they read.
struct EntryOutputs {
  std::vector<Halide::Func> outputs;  // output Funcs, in order (GuardWithIf tails)
  Halide::Func updated;               // train_step: the optimizer pass (may be undefined)
  Halide::Expr optimizer;             // train_step: the optimizer kind, to specialize on
};

// The hand policy for CPUs with SIMD (x86 AVX2/AVX-512, ARM NEON).
void cpu_simd(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
              const EntryOutputs& outputs, const Halide::Target& target);

}  // namespace kiln::schedules
