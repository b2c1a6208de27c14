// The GPU policy (CUDA and OpenCL targets): every materialized Func is a kernel over its
// pure dims, fused into one loop of GpuKnobs::threads threads per block, so any shape
// maps to enough threads; a reduction's loops run inside each thread. Elementwise ops
// (activations, dropout, padding, residual adds) are inlined into the kernels that read
// them, so a chain of them costs no launch and no round trip through memory. Every
// kernel's inputs and outputs stay on the device between layers; the buffers go to the
// device once per call and the outputs come back once.
//
// What is materialized mirrors the CPU policies (schedules/README.md): the sums of convs
// and dense layers, their gradients, pooling, batch norm, the loss, the flat gradient
// buffer and the optimizer pass.
#include "schedules/cpu_common.hpp"

#include "generators/optimizer.hpp"

#include <Halide.h>

#include <set>

namespace kiln::schedules {
using namespace Halide;
using gen::NodeFuncs;

namespace {

struct GpuPolicy {
  GpuKnobs knobs;
  std::set<std::string> scheduled;
  std::set<std::string> walked;  // the Funcs inline_reductions has looked into

  // f as kernels: its pure definition and each update, unless another role claimed it.
  void kernel(Func f) {
    if (!scheduled.insert(f.name()).second) return;
    inline_reductions(f.function());
    f.compute_root();
    if (f.dimensions() == 0) {  // a scalar (the loss): one thread, its sum inside
      f.gpu_single_thread();
      for (int u = 0; u < f.num_update_definitions(); ++u) f.update(u).gpu_single_thread();
      return;
    }
    threads_over(f, f.args(), "gpu_v");
    for (int u = 0; u < f.num_update_definitions(); ++u) {
      Stage st = f.update(u);
      if (writes_pure_dims(f, u)) {
        threads_over(st, f.args(), "gpu_v");
      } else {
        // A scatter (a parameter's gradient copied into the flat buffer): each point of
        // its domain writes its own element, so the domain's points are the threads.
        const std::vector<RVar> r = cpu::rvars_of(st);
        if (r.empty()) {  // one element (batch norm's count of batches)
          st.gpu_single_thread();
          continue;
        }
        threads_over(st.allow_race_conditions(), r, "gpu_r");
      }
    }
  }

  // Halide's inline reductions (sum, maximum, argmax, ...) that f reads, directly or
  // through the Funcs inlined into it, as kernels of their own. Each is a hidden Func with
  // an update; left unscheduled, it would be computed inside f's threads, over a region
  // that Halide 14 cannot bound to the thread's one point when f's dims are fused: the
  // region spans whole rows per thread, allocated per block in device memory (128 x 128
  // images asked PoCL for buffers it refused, CL_INVALID_BUFFER_SIZE, or gave wrong
  // outputs).
  void inline_reductions(const Internal::Function& f) {
    static const std::set<std::string> halide_names{"sum", "product", "maximum", "minimum",
                                                    "argmax", "argmin", "saturating_sum"};
    if (!walked.insert(f.name()).second) return;  // its reductions are kernels already
    for (const auto& [name, callee] : Internal::find_direct_calls(f)) {
      if (scheduled.count(name)) continue;
      if (halide_names.count(name.substr(0, name.find('$'))) && !callee.updates().empty())
        kernel(Func(callee));
      else if (callee.updates().empty())
        inline_reductions(callee);  // inlined into f (or a kernel of its own, later)
    }
  }

  // A sum over the batch and pixels into a few values (a weight or bias gradient, batch
  // norm's statistics): one kernel would run as many threads as there are values, each
  // adding a whole batch. Instead the sum is split per sample (rfactor over the domain's
  // outermost variable, the batch): a kernel of values x samples threads adds each
  // sample's pixels, and a second adds the samples.
  void per_sample_sum(Func f) {
    if (scheduled.count(f.name()) || f.num_update_definitions() != 1 || !writes_pure_dims(f, 0)) {
      kernel(f);
      return;
    }
    const std::vector<RVar> r = cpu::rvars_of(f.update());
    if (r.size() >= 2) kernel(f.update().rfactor(r.back(), Var("gpu_sample")));
    kernel(f);
  }

  // Whether update u writes f at its pure vars (acc(x, y, c, n) += ...).
  static bool writes_pure_dims(Func f, int u) {
    const std::vector<Expr> at = f.update_args(u);
    const std::vector<Var> pure = f.args();
    for (std::size_t k = 0; k < at.size(); ++k) {
      const auto* v = at[k].as<Internal::Variable>();
      if (!v || v->name != pure[k].name()) return false;
    }
    return true;
  }

  // st's loops `loops` (innermost first) fused into one, named prefix1, prefix2, ...
  // (short kernel names), and split into blocks of knobs.threads threads.
  template <class S, class V>
  void threads_over(S st, const std::vector<V>& loops, const std::string& prefix) {
    V all = loops[0];
    for (std::size_t k = 1; k < loops.size(); ++k) {
      V next(prefix + std::to_string(k));
      st.fuse(all, loops[k], next);
      all = next;
    }
    V block(prefix + "b"), thread(prefix + "t");
    st.gpu_tile(all, block, thread, knobs.threads, TailStrategy::GuardWithIf);
  }

  void node(const Node& node, NodeFuncs& f) {
    auto each = [&](std::initializer_list<const char*> roles) {
      for (const char* role : roles)
        if (f.has(role)) kernel(f[role]);
    };
    auto sums = [&](std::initializer_list<const char*> roles) {
      for (const char* role : roles)
        if (f.has(role)) per_sample_sum(f[role]);
    };
    switch (node.op) {
      case Op::conv2d:
      case Op::conv_transpose2d:
      case Op::dense:
        // d_out is read by three sums (weights, bias, input): computed once.
        each({"out_acc", "d_out", "d_in0_acc"});
        sums({"d_weight", "d_bias"});
        break;
      case Op::upsample_bilinear:
        each({"out", "d_in_rows", "d_in0"});
        break;
      case Op::max_pool:
      case Op::avg_pool:
        each({f.has("argmax") ? "argmax" : "out", "d_in0"});
        break;
      case Op::flatten:
      case Op::global_avg_pool:
        each({"out", "d_in0"});
        break;
      case Op::maxout:
        each({"argmax", "d_in0"});
        break;
      case Op::prelu:
        sums({"d_weight"});
        break;
      case Op::batch_norm:
        sums({"sum", "squares", "d_bias", "centered_sum"});
        each({"mean", "inv_std", "scale", "shift", "out", "d_in0"});
        break;
      case Op::softmax_cross_entropy:
        each({"max", "logsumexp", "d_in0"});
        break;
      case Op::target_loss:
        each({"out", "d_in0"});
        break;
      default:
        break;  // activations, dropout, normalize, add, concat: inlined into their readers
    }
    each({"d_out_sum"});  // a sum of several readers' adjoints
  }
};

}  // namespace

void gpu_policy(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
                const EntryOutputs& outputs, const GpuKnobs& knobs) {
  (void)entry;
  require_direct_convs(model, lowered, "gpu");
  GpuPolicy p{knobs, {}, {}};
  for (std::size_t i = 1; i < model.nodes.size(); ++i) p.node(model.nodes[i], lowered.nodes[i]);
  if (lowered.grad_input_is_sum) p.kernel(lowered.grad_input);
  for (const Func& f : outputs.outputs) p.kernel(f);
  if (lowered.grad_params.defined()) p.kernel(lowered.grad_params);
  if (lowered.buffers_out.defined()) p.kernel(lowered.buffers_out);
  if (outputs.updated.defined()) {
    Func u = outputs.updated;
    p.kernel(u);
    for (int k = 0; k < gen::optimizer_kinds; ++k) u.specialize(outputs.optimizer == k);
    if (outputs.norm.defined()) {
      p.kernel(outputs.norm_partial);
      p.kernel(outputs.norm);
    }
  }
}

}  // namespace kiln::schedules
