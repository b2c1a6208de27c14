#include "schedules/cpu_common.hpp"
#include "generators/optimizer.hpp"

#include <algorithm>
#include <stdexcept>

namespace kiln::schedules::cpu {
using namespace Halide;
using gen::dims;

void Policy::bound_output(Func f, Shape s) const {
  if (is_output(f)) bound_shape(f, s);
}

void Policy::bound_shape(Func f, Shape s) const {
  const std::vector<Var> args = dims().of(s);
  for (int k = 0; k + 1 < int(args.size()); ++k) f.bound(args[k], 0, s[s.rank - 1 - k]);
}

std::vector<RVar> rvars_of(const Stage& st) {
  std::vector<RVar> rvars;
  for (const auto& rv : st.get_schedule().rvars()) rvars.push_back(RVar(rv.var));
  return rvars;
}

Stage reduction_outside(Stage st, std::vector<Var> inner, std::vector<Var> outer) {
  std::vector<VarOrRVar> order(inner.begin(), inner.end());
  for (const RVar& rv : rvars_of(st)) order.push_back(rv);
  order.insert(order.end(), outer.begin(), outer.end());
  return st.reorder(order);
}

// Lanes hold per-sample partial sums (rfactor over the batch), folded at the end. A tile
// of `inner` values of the innermost dim by `outer` values of the outermost stays in
// registers while the reduction runs: each loaded gradient vector serves `inner`
// accumulators and each loaded input vector `outer` of them.
void batch_reduction(Func f, const Policy& p, int inner, int outer) {
  f.compute_root();
  std::vector<RVar> rvars = rvars_of(f.update());
  // The batch is the last RVar in every batch reduction the ops write.
  RVar rn = rvars.back(), rno("rno"), rni("rni");
  Var lane("lane"), vo("vo"), vi("vi"), lo("lo"), li("li");
  const std::vector<Var> pure = f.args();
  const bool two_way = outer > 1 && pure.size() > 1;
  Func partial = f.update().split(rn, rno, rni, p.lanes, TailStrategy::GuardWithIf).rfactor(rni, lane);
  // The fold: sum the lanes of each tile; parallel over the outermost dim.
  Stage fold = f.update().split(pure[0], vo, vi, inner, TailStrategy::GuardWithIf);
  if (two_way) {
    fold.split(pure.back(), lo, li, outer, TailStrategy::GuardWithIf);
    std::vector<VarOrRVar> order{vi, li, vo};  // the lanes stay innermost
    for (std::size_t k = 1; k + 1 < pure.size(); ++k) order.push_back(pure[k]);
    order.push_back(lo);
    fold.reorder(order).parallel(lo);
  } else if (pure.size() > 1) {
    fold.parallel(pure.back());
  } else {
    fold.parallel(vo);
  }
  partial.compute_at(f, vo);
  std::vector<Var> storage{lane};
  storage.insert(storage.end(), pure.begin(), pure.end());
  partial.reorder_storage(storage);  // whole vectors of lanes: no strided accumulators
  partial.vectorize(lane).unroll(pure[0]);
  std::vector<VarOrRVar> order{lane, pure[0]};
  if (two_way) order.push_back(pure.back());
  for (std::size_t k = 0; k + 1 < rvars.size(); ++k) order.push_back(rvars[k]);
  order.push_back(rno);
  for (std::size_t k = 1; k + (two_way ? 1 : 0) < pure.size(); ++k) order.push_back(pure[k]);
  Stage acc = partial.update().reorder(order).vectorize(lane).unroll(pure[0]);
  if (two_way) {
    partial.unroll(pure.back());
    acc.unroll(pure.back());
  }
}

// A tile of 2 vectors of i by 4 values of o is held in registers while n runs.
void outer_product_sum(Func f, Func in_t, const Policy& p) {
  const auto& d = dims();
  const Var i = f.args()[0], o = f.args()[1];
  in_t.compute_root().vectorize(d.i, p.lanes, TailStrategy::GuardWithIf).parallel(d.n);
  Func tile = f.in();
  Var io("io"), ii("ii"), oo("oo"), oi("oi");
  tile.compute_root()
      .split(i, io, ii, 2 * p.lanes, TailStrategy::GuardWithIf)
      .split(o, oo, oi, 4, TailStrategy::GuardWithIf)
      .reorder(ii, oi, io, oo)
      .vectorize(ii, p.lanes)
      .unroll(oi)
      .parallel(oo);
  f.compute_at(tile, io).vectorize(i, p.lanes).unroll(o);
  reduction_outside(f.update(), {i, o}, {}).vectorize(i, p.lanes).unroll(o);
}

void flat_buffers(gen::LoweredModel& lowered, const EntryOutputs& outputs, const Policy& p) {
  const auto& d = dims();
  if (lowered.grad_params.defined()) {
    Func g = lowered.grad_params;
    g.compute_root().vectorize(d.i, p.lanes);
    // Each update copies one parameter's gradient into its range: a short scalar copy.
    for (int u = 0; u < g.num_update_definitions(); ++u) g.update(u).unscheduled();
  }
  if (lowered.buffers_out.defined()) {
    Func b = lowered.buffers_out;  // a copy, then one short update per moved buffer
    b.compute_root().vectorize(d.i, p.lanes, TailStrategy::GuardWithIf);
    for (int u = 0; u < b.num_update_definitions(); ++u) b.update(u).unscheduled();
  }
  if (lowered.state_out.defined()) {
    Func s = lowered.state_out;  // zeros, then one short copy per recurrent layer
    s.compute_root().vectorize(d.i, p.lanes, TailStrategy::GuardWithIf);
    for (int u = 0; u < s.num_update_definitions(); ++u) s.update(u).unscheduled();
  }
  if (outputs.updated.defined()) {
    Func u = outputs.updated;
    Var jo("jo"), ji("ji");
    u.split(d.i, jo, ji, p.lanes * 64, TailStrategy::GuardWithIf)
        .parallel(jo).vectorize(ji, p.lanes, TailStrategy::GuardWithIf);
    for (int k = 0; k < gen::optimizer_kinds; ++k) u.specialize(outputs.optimizer == k);
  }
  if (outputs.norm.defined()) {
    Func partial = outputs.norm_partial;
    partial.compute_root().vectorize(d.i, p.lanes, TailStrategy::GuardWithIf);
    partial.update().reorder(d.i, rvars_of(partial.update())[0])
        .vectorize(d.i, p.lanes, TailStrategy::GuardWithIf);
    Func(outputs.norm).compute_root();
  }
}

void affine_sample_node(gen::NodeFuncs& f, const Policy& p) {
  const auto& d = dims();
  auto per_sample = [&](Func g, bool rows) {
    if (!p.claim(g)) return;
    g.compute_root().parallel(d.n);
    if (rows) g.vectorize(d.x, p.lanes, TailStrategy::GuardWithIf);
    for (int u = 0; u < g.num_update_definitions(); ++u) g.update(u).parallel(d.n);
  };
  f["theta"].compute_root();
  per_sample(f["source_x"], true);
  per_sample(f["source_y"], true);
  per_sample(f["out"], true);
  if (!f.has("d_in0")) return;
  per_sample(f["d_in0"], true);  // the scatter: each sample onto its own image
  per_sample(f["d_source"], true);
  per_sample(f["d_in1"], false);
}

}  // namespace kiln::schedules::cpu

namespace kiln::schedules {

CpuLayout cpu_layout(std::string_view asked, const ModelView& model, int batch_estimate) {
  return tune::cpu_layout_name(asked, model, batch_estimate) == "channels" ? CpuLayout::channels_innermost
                                                                         : CpuLayout::batch_innermost;
}

void require_direct_convs(const ModelView& model, const gen::LoweredModel& lowered,
                          std::string_view policy) {
  for (const Node& node : model.nodes)
    if (node.op == Op::conv2d && lowered.ctx.lowering_of(node) != gen::ConvLowering::direct)
      throw std::invalid_argument("kiln: " + std::string(node.name.view()) + ": the " + std::string(policy) +
                                  " policy lowers convs directly only, not by " +
                                  std::string(gen::lowering_name(lowered.ctx.lowering_of(node))));
}

std::string_view policy_name(const ModelView& model, const Halide::Target& target, CpuLayout layout) {
  return tune::policy_name(model, target.has_gpu_feature(),
                           layout == CpuLayout::channels_innermost ? "channels" : "batch", 0);
}

void cpu_policy(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
                const EntryOutputs& outputs, const Halide::Target& target, CpuLayout layout) {
  // Image models hand the sequence policy's node schedule their few sequence nodes (the
  // regions of roi_align or roi_pool and the layers that read them).
  const std::string_view policy = policy_name(model, target, layout);
  if (policy == "sequence") cpu_sequence(model, lowered, entry, outputs, target);
  else if (policy == "channels") cpu_channels(model, lowered, entry, outputs, target);
  else cpu_simd(model, lowered, entry, outputs, target);
}

}  // namespace kiln::schedules
