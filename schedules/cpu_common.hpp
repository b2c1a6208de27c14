// What the two CPU policies (cpu_simd.cpp: batch innermost; cpu_channels.cpp: channels
// innermost) share: the bookkeeping of which Funcs are outputs and which are already
// scheduled, loop orders that keep accumulators in registers, the batch reductions of
// flat layers, and the flat gradient buffer and optimizer pass.
#pragma once
#include "schedules/schedule.hpp"

#include <set>
#include <string>
#include <vector>

namespace kiln::schedules::cpu {

struct Policy {
  int lanes;                      // float32 lanes of the target's vectors
  std::set<std::string> outputs;  // names of Funcs that write the entry's output buffers
  bool channels_last = false;     // image inputs and outputs are channels-last (forward)

  bool is_output(const Halide::Func& f) const { return outputs.count(f.name()) != 0; }
  // Intermediates round the batch loop up to whole vectors (inputs are read with n
  // clamped, so that is safe); output buffers have exactly N samples.
  Halide::TailStrategy tail(const Halide::Func& f) const {
    return is_output(f) ? Halide::TailStrategy::GuardWithIf : Halide::TailStrategy::RoundUp;
  }
  // Several nodes can reach one Func (a conv's d_out is its consumer's d_in): the first
  // to claim it schedules it.
  mutable std::set<std::string> scheduled;
  bool claim(const Halide::Func& f) const { return scheduled.insert(f.name()).second; }
  // Output buffers get their per-sample extents fixed, so that loops over them can be
  // unrolled and split as they are for intermediates.
  void bound_output(Halide::Func f, Shape s) const;
  // f is computed over exactly its per-sample shape: what its consumers read, fixed
  // even where they are inlined into an output of run-time extent.
  void bound_shape(Halide::Func f, Shape s) const;
};

// The RVars of a stage, innermost first.
std::vector<Halide::RVar> rvars_of(const Halide::Stage& st);

// Loop order for an update: `inner` pure vars innermost, then every reduction
// variable, then `outer`: the accumulators of `inner` stay in registers while the
// reduction runs.
Halide::Stage reduction_outside(Halide::Stage st, std::vector<Halide::Var> inner,
                                std::vector<Halide::Var> outer);

// A reduction over the batch (and pixels) into a small tensor, lanes holding per-sample
// partial sums (rfactor over the batch), a tile of `inner` x `outer` values in registers.
void batch_reduction(Halide::Func f, const Policy& p, int inner, int outer = 1);

// d_weight(i, o) = sum_n in(i, n) g(o, n) of a dense layer, over a features-innermost
// copy of its input (in_t): a register-tiled matrix product.
void outer_product_sum(Halide::Func f, Halide::Func in_t, const Policy& p);

// A node of cpu_sequence's kind (dense, target_loss over sequences, roi_align, roi_pool: what a
// sequence of regions reads and writes) in a model of images: the image policies hand
// such nodes to cpu_sequence.cpp's schedule. in, in1: the shapes of the node's first and
// second inputs (an attention_lstm's grid).
void sequence_node(const Node& node, Shape in, Shape in1, gen::NodeFuncs& f, const Policy& p);
// Whether node i of the model is one for sequence_node: its value or its input a sequence.
bool is_sequence_node(const ModelView& model, std::size_t i);
// The per-sample shape of node i's input k; Shape{} where it has none (an input node).
Shape input_shape_of(const ModelView& model, std::size_t i, int k = 0);

// affine_sample's Funcs (a gather and scatters whose addresses vary per sample): per
// sample, along rows; the same in both image policies.
void affine_sample_node(gen::NodeFuncs& f, const Policy& p);

// The flat gradient buffer (one short copy per parameter), the moved buffers (batch
// norm's running statistics), the carried recurrent state and the optimizer pass.
void flat_buffers(gen::LoweredModel& lowered, const EntryOutputs& outputs, const Policy& p);

}  // namespace kiln::schedules::cpu
