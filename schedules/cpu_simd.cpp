// The hand CPU policy. Activations are stored batch-innermost — memory order
// (n, x, y, c) — and every op vectorizes over the batch: each vector lane is one
// sample, so every layer of a small net fills whole AVX-512 vectors no matter how few
// channels or pixels it has, and no lane is wasted on tails of odd widths. Weights are
// broadcast. Reductions over the batch (weight gradients) keep a vector of per-sample
// partial sums and add the lanes once at the end (rfactor).
#include "schedules/cpu_common.hpp"
#include "tune/knobs.hpp"

#include <algorithm>

namespace kiln::schedules {
using namespace Halide;
using gen::dims;
using gen::NodeFuncs;
using cpu::Policy;
using cpu::batch_reduction;
using cpu::outer_product_sum;
using cpu::reduction_outside;

namespace {

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

// acc(args..., n) with pure init and one update: computed per output tile, the batch
// vector innermost, all output channels of a pixel kept in registers (unrolled), or,
// for channel_tile > 0, that many channels at a time (it must divide the channels).
// `asked`: a tuned "tile" knob (channels x pixels; flat: features x 1) over the rule.
void accumulate_in_registers(Func out, Func acc, Shape s, const Policy& p, int channel_tile = 0,
                             tune::TileKnob asked = {}) {
  if (!p.claim(out)) return;
  const auto& d = dims();
  const TailStrategy tail = p.tail(out);
  p.bound_shape(out, s);
  Var no("no"), ni("ni");
  out.compute_root();
  if (s.is_image()) {
    // Enough pixels per tile that channels x pixels >= 12 vector accumulators: two FMA
    // units of 4 cycles' latency need 8 independent chains, and more hide the loads.
    const bool tuned = asked.vectors > 0 && s.channels() % asked.vectors == 0;
    const int tile = tuned ? asked.vectors : channel_tile > 0 ? channel_tile : s.channels();
    const int pixels = std::clamp(tuned ? asked.pixels : (12 + tile - 1) / tile, 1, std::min(4, s.width()));
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
    out.split(d.n, no, ni, p.lanes, tail).split(d.i, io, ii, asked.vectors > 0 ? asked.vectors : 8, TailStrategy::GuardWithIf)
        .reorder(ni, ii, no, io).vectorize(ni);
    out.parallel(io);
    acc.compute_at(out, io);
    acc.reorder_storage(d.n, d.i);
    acc.vectorize(d.n, p.lanes, TailStrategy::RoundUp).unroll(d.i);
    reduction_outside(acc.update(), {d.n, d.i}, {})
        .vectorize(d.n, p.lanes, TailStrategy::RoundUp).unroll(d.i);
  }
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

void schedule_node(const Node& node, const Shape in_shape, NodeFuncs& f, const gen::Knobs& knobs, const Policy& p) {
  auto has = [&](const char* role) { return f.has(role); };
  auto tile = [&](const char* name) { return tune::tile_knob(tune::knob(knobs, node.name.view(), name)); };
  const bool padded = node.pad_h > 0 || node.pad_w > 0;  // else "padded" is an alias
  switch (node.op) {
    case Op::conv2d:
      if (padded) batch_major(f["padded"], in_shape, p);
      accumulate_in_registers(f["out"], f["out_acc"], node.shape, p,
                              grouped_channel_tile(node, node.shape.channels()), tile("tile"));
      if (has("d_weight")) {
        // The gradient reaching the conv (often ReLU's mask times the pool's adjoint) is
        // read by three reductions: computed once.
        batch_major(f["d_out"], node.shape, p);
        batch_major(f["d_out_upsampled"], node.shape, p);
        // kernel_w x 4 output channels: up to 28 accumulators, 9 loads per 20 FMAs at 5x5.
        const tune::TileKnob w = tile("d_weight");
        batch_reduction(f["d_weight"], p, w.vectors > 0 ? w.vectors : std::min(node.kernel_w, 7),
                        w.vectors > 0 ? w.pixels : node.kernel_w <= 5 ? 4 : 3);
        if (has("d_bias")) batch_reduction(f["d_bias"], p, 8);
        accumulate_in_registers(f["d_in0"], f["d_in0_acc"], in_shape, p,
                                grouped_channel_tile(node, in_shape.channels()), tile("d_in_tile"));
      }
      break;
    case Op::conv_transpose2d:
      batch_major(f["padded"], in_shape, p);
      accumulate_in_registers(f["out"], f["out_acc"], node.shape, p);
      if (has("d_weight")) {
        batch_major(f["d_out"], node.shape, p);
        batch_major(f["d_out_padded"], node.shape, p);
        batch_reduction(f["d_weight"], p, std::min(node.kernel_w, 7), 4);
        if (has("d_bias")) batch_reduction(f["d_bias"], p, 8);
        accumulate_in_registers(f["d_in0"], f["d_in0_acc"], in_shape, p);
      }
      break;
    case Op::upsample_bilinear:
      batch_major(f["out"], node.shape, p);
      if (has("d_in0")) {
        batch_major(f["d_in_rows"], shape(node.shape.channels(), node.shape.height(), in_shape.width()), p);
        batch_major(f["d_in0"], in_shape, p);
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
      accumulate_in_registers(f["out"], f["out_acc"], node.shape, p, 0, tile("tile"));
      if (has("d_weight")) {
        outer_product_sum(f["d_weight"], f["in_t"], p);
        if (has("d_bias")) batch_reduction(f["d_bias"], p, 8);
        accumulate_in_registers(f["d_in0"], f["d_in0_acc"], in_shape, p, 0, tile("d_in_tile"));
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
    case Op::target_loss:  // the adjoint is read by the head's three sums: computed once
      f["out"].compute_root();  // a sum (with heads(...), one of several)
      if (has("d_in0")) batch_major(f["d_in0"], in_shape, p);
      break;
    case Op::affine_sample:
      cpu::affine_sample_node(f, p);
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
  require_direct_convs(model, lowered, "cpu_simd");
  Policy p{target.natural_vector_size<float>(), {}, {}};
  for (const Func& f : outputs.outputs) p.outputs.insert(f.name());
  const auto& d = dims();
  batch_major(lowered.nodes[0]["out"], model.input_shape(), p);
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const Node& node = model.nodes[i];
    if (cpu::is_sequence_node(model, i)) cpu::sequence_node(node, cpu::input_shape_of(model, i), cpu::input_shape_of(model, i, 1), lowered.nodes[i], p);
    else schedule_node(node, cpu::input_shape_of(model, i), lowered.nodes[i], lowered.ctx.knobs, p);
  }
  if (lowered.grad_input_is_sum) {
    // The input has several consumers: their adjoints are summed into the output.
    batch_major(lowered.grad_input, model.input_shape(), p);
  }
  cpu::flat_buffers(lowered, outputs, p);
}

}  // namespace kiln::schedules
