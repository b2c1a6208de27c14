// The hand CPU policy for sequence models (tokens, embedding, rnn / lstm / gru, dense at
// every step). Activations keep their features innermost (Halide's default order
// (i, t, n)); every matrix product — the input projections of all steps at once, the
// per-step dense layers, their adjoints and the weight gradients summed over every step
// of every sample — runs in register tiles of whole vectors of its innermost dim by a
// few unrolled values of the next. The recurrent time loops are extern stages with
// their own step schedules (generators/cells/cells.cpp).
#include "schedules/cpu_common.hpp"

#include <algorithm>

namespace kiln::schedules {
using namespace Halide;
using gen::dims;
using gen::NodeFuncs;
using cpu::Policy;
using cpu::reduction_outside;

namespace {

// Tile sizes that divide a dim's known extent, so that every tile is whole and its
// loops unroll: `vectors` vectors of the innermost dim (or one vector, or the whole dim
// when it is not a multiple of a vector), and up to `unrolled` values of the next
// (0 for a dim of run-time extent, the batch: no tile).
struct Tile {
  int v, w;
};
Tile tile_for(const Policy& p, int v_extent, int w_extent, int vectors, int unrolled) {
  Tile t{v_extent, 0};
  if (v_extent % (vectors * p.lanes) == 0) t.v = vectors * p.lanes;
  else if (v_extent % p.lanes == 0) t.v = p.lanes;
  if (w_extent > 0) {
    t.w = std::min(unrolled, w_extent);
    while (w_extent % t.w != 0) --t.w;
  }
  return t;
}
void vectorize_tile(Stage s, Var v, const Policy& p, Tile t) {
  if (t.v % p.lanes == 0) s.vectorize(v, p.lanes).unroll(v);
  else s.vectorize(v, p.lanes, TailStrategy::GuardWithIf);
}

// out(v, w, rest...) = acc, acc an init plus one reduction, of known extents v_extent and
// w_extent (0: the batch): computed per tile (tile_for), the reduction inside the tile,
// the tile's accumulators in registers; parallel over the outermost dim.
void product_tiles(Func out, Func acc, const Policy& p, Var v, Var w, int v_extent,
                   int w_extent, int vectors, int unrolled) {
  if (!p.claim(out)) return;
  const Tile t = tile_for(p, v_extent, w_extent, vectors, unrolled);
  Var vo("vo"), vi("vi"), wo("wo"), wi("wi");
  out.compute_root().bound(v, 0, v_extent).split(v, vo, vi, t.v);
  std::vector<VarOrRVar> order{vi};
  if (t.w > 0) {
    out.bound(w, 0, w_extent).split(w, wo, wi, t.w);
    order.push_back(wi);
  }
  order.push_back(vo);
  order.push_back(t.w > 0 ? wo : w);
  for (const Var& a : out.args())
    if (a.name() != v.name() && a.name() != w.name()) order.push_back(a);
  out.reorder(order).vectorize(vi, p.lanes, TailStrategy::GuardWithIf);
  out.parallel(out.args().back().name() == w.name() ? (t.w > 0 ? wo : w) : out.args().back());
  acc.compute_at(out, vo);
  vectorize_tile(acc, v, p, t);
  Stage update = reduction_outside(acc.update(), {v, w}, {});
  vectorize_tile(update, v, p, t);
  if (t.w > 0) {
    acc.unroll(w);
    update.unroll(w);
  }
}

// f(v, w) = 0 + a sum over rows, v_extent x w_extent: the same tiles, through a
// wrapper (as cpu::outer_product_sum).
void sum_tiles(Func f, const Policy& p, int v_extent, int w_extent, int vectors, int unrolled) {
  if (!p.claim(f)) return;
  const Var v = f.args()[0], w = f.args()[1];
  const Tile t = tile_for(p, v_extent, w_extent, vectors, unrolled);
  Func tile = f.in();
  Var vo("vo"), vi("vi"), wo("wo"), wi("wi");
  tile.compute_root()
      .bound(v, 0, v_extent)
      .bound(w, 0, w_extent)
      .split(v, vo, vi, t.v)
      .split(w, wo, wi, t.w)
      .reorder(vi, wi, vo, wo)
      .vectorize(vi, p.lanes, TailStrategy::GuardWithIf)
      .unroll(wi)
      .parallel(wo);
  f.compute_at(tile, vo).unroll(w);
  vectorize_tile(f, v, p, t);
  Stage update = reduction_outside(f.update(), {v, w}, {}).unroll(w);
  vectorize_tile(update, v, p, t);
}

// Any Func materialized as it is: its innermost dim in vectors, parallel over the outermost.
void root(Func f, const Policy& p) {
  if (!p.claim(f)) return;
  f.compute_root().vectorize(f.args()[0], p.lanes, TailStrategy::GuardWithIf);
  if (f.dimensions() > 1) f.parallel(f.args().back());
}

// f(k, g) = 0 + a sum over rows (t, n) of a product: in tiles as sum_tiles, but the
// samples in chunks of `chunk` outside the tiles, so that a chunk of both operands (every
// step of `chunk` samples) stays in cache while every tile runs over it (sum_tiles
// streams every row once per tile). The tile's sums go back to memory between chunks.
// A sum with no rows (no update) is its zero init alone.
void chunked_sum_tiles(Func f, const Policy& p, int v_extent, int w_extent, int vectors, int unrolled, int chunk) {
  if (!f.has_update_definition()) return root(f, p);
  if (!p.claim(f)) return;
  const Var v = f.args()[0], w = f.args()[1];
  const Tile t = tile_for(p, v_extent, w_extent, vectors, unrolled);
  Var vo("vo"), vi("vi"), wo("wo"), wi("wi"), vu("vu"), vv("vv");
  f.compute_root().bound(v, 0, v_extent).bound(w, 0, w_extent).vectorize(v, p.lanes, TailStrategy::GuardWithIf).parallel(w);
  const std::vector<RVar> r = cpu::rvars_of(f.update());  // t, then n
  RVar to("to"), ti("ti");
  f.update()
      .split(v, vo, vi, t.v)
      .split(w, wo, wi, t.w)
      .split(r[1], to, ti, chunk, TailStrategy::GuardWithIf)
      .split(vi, vu, vv, p.lanes)
      .reorder(vv, vu, wi, r[0], ti, vo, wo, to)
      .vectorize(vv)
      .unroll(vu)
      .unroll(wi)
      .parallel(wo);
}

// A Func of pure inits and updates over the same dims (sums per sample): every stage in
// vectors of its first dim, parallel over its last.
void root_with_updates(Func f, const Policy& p) {
  if (!p.claim(f)) return;
  const Var v = f.args()[0], n = f.args().back();
  f.compute_root().vectorize(v, p.lanes, TailStrategy::GuardWithIf).parallel(n);
  for (int u = 0; u < f.num_update_definitions(); ++u)
    f.update(u).vectorize(v, p.lanes, TailStrategy::GuardWithIf).parallel(n);
}

// A 1-D sum over rows (a bias gradient): vectors of its one dim, the rows inside.
void vector_sum(Func f, const Policy& p) {
  if (!p.claim(f)) return;
  const Var v = f.args()[0];
  f.compute_root().vectorize(v, p.lanes, TailStrategy::GuardWithIf);
  reduction_outside(f.update(), {v}, {}).vectorize(v, p.lanes, TailStrategy::GuardWithIf);
}

// A weight copied with its two dims swapped (for a product to vectorize over what was
// the outer dim): in square tiles of a vector, read along the source's rows.
void transposed_copy(Func f, const Policy& p) {
  if (!p.claim(f)) return;
  const Var v = f.args()[0], w = f.args()[1];
  Var vo("vo"), vi("vi"), wo("wo"), wi("wi");
  f.compute_root()
      .tile(v, w, vo, wo, vi, wi, p.lanes, p.lanes, TailStrategy::GuardWithIf)
      .reorder(wi, vi, vo, wo)
      .vectorize(wi)
      .unroll(vi)
      .parallel(wo);
}

}  // namespace

void cpu::sequence_node(const Node& node, Shape in, Shape in1, NodeFuncs& f, const Policy& p) {
  auto has = [&](const char* role) { return f.has(role); };
  const auto& d = dims();
  // Features in and out, steps (0 for a flat tensor: its second dim is the batch).
  const bool sequence = in.is_sequence();
  const int F = sequence ? in[1] : in[0], T = sequence ? in[0] : 0;
  const int O = node.shape.is_sequence() ? node.shape[1] : node.shape[0];
  const Var w = sequence ? d.t : d.n;
  switch (node.op) {
    case Op::embedding:
    case Op::one_hot:
      f["id"].compute_root();
      root(f["out"], p);
      if (has("d_weight")) {  // a scatter over the rows, vectors of the table's rows
        Func dw = f["d_weight"];
        p.claim(dw);
        dw.compute_root().vectorize(dw.args()[0], p.lanes, TailStrategy::GuardWithIf);
        dw.update().vectorize(dw.args()[0], p.lanes, TailStrategy::GuardWithIf);
      }
      break;
    case Op::dense:
      if (has("w_t")) transposed_copy(f["w_t"], p);
      product_tiles(f["out"], f["out_acc"], p, d.i, w, O, T, 4, 5);
      if (has("d_weight")) {
        if (sequence) chunked_sum_tiles(f["d_weight"], p, F, O, 2, 4, 2);
        else sum_tiles(f["d_weight"], p, F, O, 2, 4);
        if (has("d_bias")) vector_sum(f["d_bias"], p);
        product_tiles(f["d_in0"], f["d_in0_acc"], p, d.i, w, F, T, 2, 5);
        root(f["in_t"], p);
      }
      break;
    case Op::rnn:
    case Op::lstm:
    case Op::gru:
    {
      const int GH = gate_count(node.op) * node.units;
      transposed_copy(f["w_ih_t"], p);
      transposed_copy(f["w_gk"], p);
      product_tiles(f["xproj"], f["xproj_acc"], p, f["xproj"].args()[0], d.t, GH, T, 4, 5);
      root(f["b_step"], p);
      root(f["initial"], p);
      f["states"].compute_root();
      if (has("d_gates")) {
        for (const char* role : {"d_h", "w_kg", "in_t"}) root(f[role], p);
        f["d_gates"].compute_root();
        chunked_sum_tiles(f["d_weight_ih"], p, F, GH, 4, 4, 2);
        chunked_sum_tiles(f["d_weight_hh"], p, node.units, GH, 4, 4, 2);
        vector_sum(f["d_bias_ih"], p);
        vector_sum(f["d_bias_hh"], p);
        product_tiles(f["d_in0"], f["d_in0_acc"], p, d.i, d.t, F, T, 2, 5);
      }
      break;
    }
    case Op::attention_lstm: {
      const int GH = 4 * node.units, H = node.units, C = node.context, E = F;
      const int L = in1.height() * in1.width();
      root(f["features"], p);
      root(f["features_t"], p);
      transposed_copy(f["w_k_t"], p);
      product_tiles(f["keys"], f["keys_acc"], p, f["keys"].args()[0], f["keys"].args()[1], H, L, 4, 4);
      root(f["keys_t"], p);
      transposed_copy(f["w_ih_t"], p);
      transposed_copy(f["w_gk"], p);
      product_tiles(f["xproj"], f["xproj_acc"], p, f["xproj"].args()[0], d.t, GH, T, 4, 5);
      f["states"].compute_root();
      if (has("d_all")) {
        for (const char* role : {"d_hz", "w_kg", "in_t"}) root(f[role], p);
        f["d_all"].compute_root();
        chunked_sum_tiles(f["d_weight_ih"], p, E + C, GH, 4, 4, 2);
        chunked_sum_tiles(f["d_weight_hh"], p, H, GH, 4, 4, 2);
        vector_sum(f["d_bias_ih"], p);
        vector_sum(f["d_bias_hh"], p);
        root_with_updates(f["d_keys"], p);
        chunked_sum_tiles(f["d_key_weight"], p, C, H, 4, 4, 2);
        root_with_updates(f["d_features"], p);
        product_tiles(f["d_in0"], f["d_in0_acc"], p, d.i, d.t, E, T, 2, 5);
      }
      break;
    }
    case Op::input:  // a decoder's words
      root(f["out"], p);
      break;
    case Op::softmax_cross_entropy:
      f["max"].compute_root();
      f["logsumexp"].compute_root();
      if (has("d_in0")) root(f["d_in0"], p);
      break;
    case Op::target_loss:
      f["out"].compute_root();
      if (has("d_in0")) root(f["d_in0"], p);
      break;
    case Op::roi_align:  // a gather per bin; the adjoint a scatter, each sample's own slice
    case Op::roi_pool:
      if (has("argmax") && p.claim(f["argmax"]))  // a bin's loops vary: per sample, not in vectors
        f["argmax"].compute_root().parallel(d.n);
      root(f["out"], p);
      if (has("d_in0") && p.claim(f["d_in0"])) {
        Func g = f["d_in0"];
        g.compute_root().parallel(d.n);
        g.update().parallel(d.n);
      }
      break;
    default:
      break;  // activations, dropout, add: inlined into their consumers
  }
  if (has("d_out_sum")) root(f["d_out_sum"], p);
}

bool cpu::is_sequence_node(const ModelView& model, std::size_t i) {
  return model.nodes[i].shape.is_sequence() || input_shape_of(model, i).is_sequence();
}

Shape cpu::input_shape_of(const ModelView& model, std::size_t i, int k) {
  const Node& node = model.nodes[i];
  return node.input_count() > k ? model.nodes[node.inputs[k]].shape : Shape{};
}

void cpu_sequence(const ModelView& model, gen::LoweredModel& lowered, Entry,
                  const EntryOutputs& outputs, const Target& target) {
  require_direct_convs(model, lowered, "cpu_sequence");
  Policy p{target.natural_vector_size<float>(), {}, {}};
  for (const Func& f : outputs.outputs) p.outputs.insert(f.name());
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const Node& node = model.nodes[i];
    cpu::sequence_node(node, cpu::input_shape_of(model, i), cpu::input_shape_of(model, i, 1), lowered.nodes[i], p);
  }
  if (lowered.grad_input_is_sum) root(lowered.grad_input, p);
  cpu::flat_buffers(lowered, outputs, p);
}

}  // namespace kiln::schedules
