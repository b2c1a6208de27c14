// The hand CPU policy. Activations are stored batch-innermost — memory order
// (n, x, y, c) — and every op vectorizes over the batch: each vector lane is one
// sample, so every layer of a small net fills whole AVX-512 vectors no matter how few
// channels or pixels it has, and no lane is wasted on tails of odd widths. Weights are
// broadcast. Reductions over the batch (weight gradients) keep a vector of per-sample
// partial sums and add the lanes once at the end (rfactor).
#include "schedules/schedule.hpp"
#include "generators/optimizer.hpp"

#include <algorithm>
#include <set>

namespace kiln::schedules {
using namespace Halide;
using gen::dims;
using gen::NodeFuncs;

namespace {

struct Policy {
  int lanes;  // float32 lanes of the target's vectors
  std::set<std::string> outputs;  // names of Funcs that write the entry's output buffers

  // Intermediates round the batch loop up to whole vectors (inputs are read with n
  // clamped, so that is safe); output buffers have exactly N samples.
  TailStrategy tail(const Func& f) const {
    return outputs.count(f.name()) ? TailStrategy::GuardWithIf : TailStrategy::RoundUp;
  }
  // Several nodes can reach one Func (a conv's d_out is its consumer's d_in): the first
  // to claim it schedules it.
  mutable std::set<std::string> scheduled;
  bool claim(const Func& f) const { return scheduled.insert(f.name()).second; }

  // Output buffers get their per-sample extents fixed, so that loops over channels can
  // be unrolled as they are for intermediates.
  void bound_output(Func f, Shape s) const {
    if (outputs.count(f.name())) bound_shape(f, s);
  }
  // f is computed over exactly its per-sample shape: what its consumers read, fixed
  // even where they are inlined into an output of run-time extent.
  void bound_shape(Func f, Shape s) const {
    const std::vector<Var> args = dims().of(s);
    for (int k = 0; k + 1 < int(args.size()); ++k) f.bound(args[k], 0, s[s.rank - 1 - k]);
  }
};

// Materialize f (dims of shape s, then n) with n innermost in memory and in the
// vector loop; parallel over the outermost non-batch dim.
void batch_major(Func f, Shape s, const Policy& p) {
  if (!p.claim(f)) return;
  const auto& d = dims();
  const TailStrategy tail = p.tail(f);
  p.bound_output(f, s);
  Var no("no"), ni("ni");
  f.compute_root();
  if (s.is_image()) {
    f.reorder_storage(d.n, d.x, d.y, d.c);
    f.split(d.n, no, ni, p.lanes, tail).reorder(ni, d.x, d.y, no, d.c).vectorize(ni);
    f.parallel(d.c);
  } else {
    f.reorder_storage(d.n, d.i);
    Var io("io"), ii("ii");
    f.split(d.n, no, ni, p.lanes, tail).split(d.i, io, ii, 8, TailStrategy::GuardWithIf)
        .reorder(ni, ii, no, io).vectorize(ni);
    f.parallel(io);
  }
}

// Loop order for an update: `inner` pure vars innermost, then every reduction
// variable, then `outer`: the accumulators of `inner` stay in registers while the
// reduction runs.
Stage reduction_outside(Stage st, std::vector<Var> inner, std::vector<Var> outer) {
  std::vector<VarOrRVar> order(inner.begin(), inner.end());
  for (const auto& rv : st.get_schedule().rvars()) order.push_back(RVar(rv.var));
  order.insert(order.end(), outer.begin(), outer.end());
  return st.reorder(order);
}

// acc(args..., n) with pure init and one update: computed per output tile, the batch
// vector innermost, all output channels of a pixel kept in registers (unrolled), or,
// for channel_tile > 0, that many channels at a time (it must divide the channels).
void accumulate_in_registers(Func out, Func acc, Shape s, const Policy& p, int channel_tile = 0) {
  if (!p.claim(out)) return;
  const auto& d = dims();
  const TailStrategy tail = p.tail(out);
  p.bound_shape(out, s);
  Var no("no"), ni("ni");
  out.compute_root();
  if (s.is_image()) {
    // Enough pixels per tile that channels x pixels >= 12 vector accumulators: two FMA
    // units of 4 cycles' latency need 8 independent chains, and more hide the loads.
    const int tile = channel_tile > 0 ? channel_tile : s.channels();
    const int pixels = std::clamp((12 + tile - 1) / tile, 1, std::min(4, s.width()));
    Var xo("xo"), xi("xi");
    out.reorder_storage(d.n, d.x, d.y, d.c);
    out.split(d.n, no, ni, p.lanes, tail)
        .split(d.x, xo, xi, pixels, TailStrategy::ShiftInwards);
    if (tile < s.channels()) {
      // acc covers one tile of channels per xo: a constant extent to unroll.
      Var co("co"), ci("ci");
      out.split(d.c, co, ci, tile, TailStrategy::ShiftInwards)
          .reorder(ni, ci, xi, xo, co, no, d.y).vectorize(ni);
    } else {
      out.reorder(ni, d.c, xi, xo, no, d.y).vectorize(ni);
    }
    out.parallel(d.y);
    acc.compute_at(out, xo);
    acc.reorder_storage(d.n, d.c, d.x, d.y);
    acc.vectorize(d.n, p.lanes, TailStrategy::RoundUp).unroll(d.c).unroll(d.x);
    // update: the reduction loops outside, channels and pixels unrolled, batch vector inside
    reduction_outside(acc.update(), {d.n, d.c, d.x}, {d.y})
        .vectorize(d.n, p.lanes, TailStrategy::RoundUp).unroll(d.c).unroll(d.x);
  } else {
    Var io("io"), ii("ii");
    out.reorder_storage(d.n, d.i);
    out.split(d.n, no, ni, p.lanes, tail).split(d.i, io, ii, 8, TailStrategy::GuardWithIf)
        .reorder(ni, ii, no, io).vectorize(ni);
    out.parallel(io);
    acc.compute_at(out, io);
    acc.reorder_storage(d.n, d.i);
    acc.vectorize(d.n, p.lanes, TailStrategy::RoundUp).unroll(d.i);
    reduction_outside(acc.update(), {d.n, d.i}, {})
        .vectorize(d.n, p.lanes, TailStrategy::RoundUp).unroll(d.i);
  }
}

// A reduction over the batch and pixels into a small tensor (weight and bias
// gradients). Lanes hold per-sample partial sums (rfactor over the batch), folded at
// the end. A tile of `inner` values of the innermost dim by `outer` values of the
// outermost stays in registers while the reduction runs: each loaded gradient vector
// serves `inner` accumulators and each loaded input vector `outer` of them.
void batch_reduction(Func f, const Policy& p, int inner, int outer = 1) {
  f.compute_root();
  std::vector<RVar> rvars;
  for (const auto& rv : f.update().get_schedule().rvars()) rvars.push_back(RVar(rv.var));
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

// d_weight(i, o) = sum_n in(i, n) g(o, n): a matrix product with the batch as its
// reduction. The input is copied once with features innermost (in_t), so that a tile of
// 2 vectors of i by 4 values of o is held in registers while n runs.
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

// A grouped conv's outputs each reduce over only C/G inputs, so holding every channel in
// registers buys no reuse and, for a depthwise conv of hundreds of channels, unrolls
// hundreds of accumulators: tile the channels by the largest divisor up to 16 instead.
// Ungrouped convs keep every channel of a pixel in registers (0: no tile).
int grouped_channel_tile(const Node& node, int channels) {
  if (node.groups == 1 || channels <= 16) return 0;
  int tile = 16;
  while (channels % tile != 0) --tile;
  return tile;
}

void schedule_node(const Node& node, const Shape in_shape, NodeFuncs& f, const Policy& p) {
  auto has = [&](const char* role) { return f.has(role); };
  const bool padded = node.pad_h > 0 || node.pad_w > 0;  // else "padded" is an alias
  switch (node.op) {
    case Op::conv2d:
      if (padded) batch_major(f["padded"], in_shape, p);
      accumulate_in_registers(f["out"], f["out_acc"], node.shape, p,
                              grouped_channel_tile(node, node.shape.channels()));
      if (has("d_weight")) {
        // The gradient reaching the conv (often ReLU's mask times the pool's adjoint) is
        // read by three reductions: computed once.
        batch_major(f["d_out"], node.shape, p);
        batch_major(f["d_out_upsampled"], node.shape, p);
        // kernel_w x 4 output channels: up to 28 accumulators, 9 loads per 20 FMAs at 5x5.
        batch_reduction(f["d_weight"], p, std::min(node.kernel_w, 7), node.kernel_w <= 5 ? 4 : 3);
        if (has("d_bias")) batch_reduction(f["d_bias"], p, 8);
        accumulate_in_registers(f["d_in0"], f["d_in0_acc"], in_shape, p,
                                grouped_channel_tile(node, in_shape.channels()));
      }
      break;
    case Op::max_pool:
    case Op::avg_pool:
      if (padded) batch_major(f["padded"], in_shape, p);
      if (has("argmax")) {
        batch_major(f["argmax"], node.shape, p);
      } else {
        batch_major(f["out"], node.shape, p);
      }
      if (has("d_in0")) batch_major(f["d_in0"], in_shape, p);
      break;
    case Op::dense:
      accumulate_in_registers(f["out"], f["out_acc"], node.shape, p);
      if (has("d_weight")) {
        outer_product_sum(f["d_weight"], f["in_t"], p);
        if (has("d_bias")) batch_reduction(f["d_bias"], p, 8);
        accumulate_in_registers(f["d_in0"], f["d_in0_acc"], in_shape, p);
      }
      break;
    case Op::flatten:
      batch_major(f["out"], node.shape, p);
      break;
    case Op::maxout:  // out reads the argmax's second element inline, as max_pool's
      batch_major(f["argmax"], node.shape, p);
      if (has("d_in0")) batch_major(f["d_in0"], in_shape, p);
      break;
    case Op::global_avg_pool:
      batch_major(f["out"], node.shape, p);
      if (has("d_in0")) batch_major(f["d_in0"], in_shape, p);
      break;
    case Op::prelu:  // out and d_in0 inline like relu's; the slopes' gradient is a reduction
      if (has("d_weight")) batch_reduction(f["d_weight"], p, 8);
      break;
    case Op::batch_norm:  // the statistics are batch reductions; out and d_in0 materialized
      for (const char* role : {"sum", "squares", "d_bias", "centered_sum"}) {
        if (!has(role)) continue;
        // Bounded, so that the register tiles' unrolled loops have constant extents.
        const int channels = node.shape.is_image() ? node.shape.channels() : node.shape[0];
        f[role].bound(f[role].args()[0], 0, channels);
        batch_reduction(f[role], p, 8);
      }
      for (const char* role : {"mean", "inv_std", "scale", "shift"}) f[role].compute_root();
      batch_major(f["out"], node.shape, p);
      if (has("d_in0")) batch_major(f["d_in0"], in_shape, p);
      break;
    case Op::softmax_cross_entropy:
      f["max"].compute_root().vectorize(dims().n, p.lanes);
      f["logsumexp"].compute_root().vectorize(dims().n, p.lanes);
      if (has("d_in0")) batch_major(f["d_in0"], in_shape, p);
      break;
    default:
      break;  // activations, dropout, normalize, add, concat: inlined into their consumers
  }
  // A sum of several consumers' adjoints is worth materializing once.
  if (has("d_out_sum")) batch_major(f["d_out_sum"], node.shape, p);
}

}  // namespace

void cpu_simd(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
              const EntryOutputs& outputs, const Target& target) {
  Policy p{target.natural_vector_size<float>(), {}, {}};
  for (const Func& f : outputs.outputs) p.outputs.insert(f.name());
  const auto& d = dims();
  batch_major(lowered.nodes[0]["out"], model.input_shape(), p);
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const Node& node = model.nodes[i];
    schedule_node(node, model.nodes[node.inputs[0]].shape, lowered.nodes[i], p);
  }
  if (lowered.grad_input_is_sum) {
    // The input has several consumers: their adjoints are summed into the output.
    batch_major(lowered.grad_input, model.input_shape(), p);
  }
  if (lowered.grad_params.defined()) {
    Func g = lowered.grad_params;
    g.compute_root().vectorize(d.i, p.lanes);
    // Each update copies one parameter's gradient into its range: a short scalar copy.
    for (int u = 0; u < g.num_update_definitions(); ++u) g.update(u).unscheduled();
  }
  if (entry == Entry::train_step && lowered.buffers_out.defined()) {
    Func b = lowered.buffers_out;  // a copy, then one short update per moved buffer
    b.compute_root().vectorize(d.i, p.lanes, TailStrategy::GuardWithIf);
    for (int u = 0; u < b.num_update_definitions(); ++u) b.update(u).unscheduled();
  }
  if (outputs.updated.defined()) {
    Func u = outputs.updated;
    Var jo("jo"), ji("ji");
    u.split(d.i, jo, ji, p.lanes * 64, TailStrategy::GuardWithIf)
        .parallel(jo).vectorize(ji, p.lanes, TailStrategy::GuardWithIf);
    for (int k = 0; k < gen::optimizer_kinds; ++k) u.specialize(outputs.optimizer == k);
  }
}

}  // namespace kiln::schedules
