// The hand CPU policy for wide conv nets, at any batch. Image activations are stored
// channels-innermost — memory order (c, x, y, n) — and convolutions vectorize over
// output channels: each tile of up to 64 output channels x 4 pixels (or 32 x 7 where the
// rows are 7 or 14 wide) keeps its 14-16 accumulator vectors in registers while the
// taps and input channels run, so every loaded weight vector serves 4-7 pixels and every
// broadcast input value 2-4 vectors. Loops over the batch are exact (no lanes, no
// rounding): batch 1 costs an eighth of batch 8. Flat layers vectorize over features.
//
// Where its rules came from: schedules/README.md; measurements in bench/RESULTS.md
// (bench/conv_layer.py for single layers, bench/cnn_zoo.py for whole nets).
#include "schedules/cpu_common.hpp"
#include "tune/knobs.hpp"

#include <Halide.h>

namespace kiln::schedules {
using namespace Halide;
using cpu::Policy;
using cpu::rvars_of;
using gen::dims;
using gen::NodeFuncs;

namespace {

// The vector width for a dim of `extent` values: the target's, or the largest power of
// two that fits, so that narrow dims vectorize without tails (ShiftInwards is then safe).
int width_for(int extent, const Policy& p) {
  int v = p.lanes;
  while (v > 1 && v > extent) v /= 2;
  return v;
}

// Materialize f channels-innermost (features-innermost when flat), vectorized over
// channels, parallel over rows of the batch. Output buffers keep PyTorch's order (x
// innermost), so there the vectors run along x.
void channels_major(Func f, Shape s, const Policy& p) {
  if (!p.claim(f)) return;
  const auto& d = dims();
  Var row("row");
  f.compute_root();
  if (s.is_image() && p.is_output(f) && !p.channels_last) {
    // One task per row of every channel (not a parallel loop per channel).
    f.reorder(d.x, d.c, d.y, d.n).vectorize(d.x, width_for(s.width(), p), TailStrategy::GuardWithIf)
        .fuse(d.y, d.n, row).parallel(row);
  } else if (s.is_image()) {
    if (!p.is_output(f)) f.reorder_storage(d.c, d.x, d.y, d.n);  // an output's is its buffer's
    f.reorder(d.c, d.x, d.y, d.n)
        .vectorize(d.c, width_for(s.channels(), p)).fuse(d.y, d.n, row).parallel(row);
  } else {
    f.vectorize(d.i, width_for(s[0], p)).parallel(d.n);
  }
}

// A conv's (or transposed conv's) weight count: KH x KW x C/G x O.
long long conv_weights(const Node& node, Shape in_s) {
  return (long long)node.kernel_w * node.kernel_h * (in_s.channels() / node.groups) * node.units;
}

// How many vectors of output channels by how many pixels one register tile holds: 12-16
// accumulators (two FMA units of 4 cycles' latency need 8 chains; more hide the loads),
// the pixel count dividing the row so that no tile is shifted back over its neighbour.
struct Tile { int vectors, pixels; };
Tile tile_for(Shape s, int vec) {
  const int W = s.width(), most = std::max(1, s.channels() / vec);
  for (Tile t : {Tile{4, 4}, Tile{2, 7}, Tile{2, 8}, Tile{2, 6}, Tile{3, 5}, Tile{4, 3}})
    if (t.vectors <= most && t.pixels <= W && W % t.pixels == 0) return t;
  return {std::min(4, most), std::min(4, W)};
}

// A conv layer's tuned knobs (tune/knobs.hpp) as this policy reads them: a register tile (0 x
// 0: the rule's) and where the tasks run ("rule", "rows" or "tiles").
struct ConvKnobs {
  tune::TileKnob tile;
  std::string_view tasks = "rule";
};
ConvKnobs conv_knobs(const gen::Knobs& knobs, const Node& node) {
  return {tune::tile_knob(tune::knob(knobs, node.name.view(), "tile")), tune::knob(knobs, node.name.view(), "tasks")};
}
// The tile for a row of `row` pixels and `channels` output channels in vectors of `vec`:
// the knob's where its pixels divide the row (its vectors at most the channels'), else the
// rule's.
Tile tile_with(Tile rule, tune::TileKnob asked, int row, int channels, int vec) {
  if (asked.pixels <= 0 || row % asked.pixels != 0) return rule;
  return {std::min(asked.vectors, std::max(1, channels / vec)), asked.pixels};
}

// Output rows per task where a conv's padded input rows are copied per output row: each
// band of rows keeps a sliding window of input rows (a 3x3 conv copies each input row
// once per band, not 3 times), while the batch x bands tasks stay many enough to share
// out (an even number of bands per image where one divides the rows).
int band_rows(int height) {
  int band = 1, even = 1;
  for (int b = 2; b <= 8; ++b)
    if (height % b == 0 && height / b >= 8) {
      band = b;
      if (height / b % 2 == 0) even = b;
    }
  return even > 1 ? even : band;
}

// host(x, y, c, n) = acc(x, y, c, n), where acc sums over (kx, ky, channel) RVars (a
// convolution or its input gradient), reading `weights` floats of weights in all.
// host is materialized channels-innermost in tiles of output channels x pixels; acc
// lives in registers per tile, the reduction outside it with the channel RVar innermost
// (stride 1 in both operands). `rows` (the padded input, or the padded gradient) is
// copied per row, where it stays in cache: a sliding window over a band of rows, or all
// of a row's taps per row.
// Rows inside tiles of output channels when the weights outweigh the input and there are
// 8 tiles or more: the tasks are tiles, whose weights stay in L2 while their rows run,
// instead of every row streaming all of the weights (ResNet's layer3 and layer4, where
// 2.4-9.4 MB of weights meet 14 or 7 rows per image, and 7 rows split badly over 2
// threads). Otherwise the tasks are rows, tiles inside.
void register_tiles(Func host, Func acc, Func rows, Shape s, Shape in_s, long long weights,
                    bool fuse_taps, const Policy& p, ConvKnobs k = {}) {
  const auto& d = dims();
  const int vec = width_for(s.channels(), p);
  const Tile t = tile_with(tile_for(s, vec), k.tile, s.width(), s.channels(), vec);
  const int tiles = (s.channels() + t.vectors * vec - 1) / (t.vectors * vec);
  const bool rows_inside = k.tasks == "rows"    ? false
                           : k.tasks == "tiles" ? true
                                                : tiles >= 8 && weights * s.height() > in_s.elements() * tiles;
  Var ct("ct"), cv("cv"), cvo("cvo"), cvi("cvi"), xo("xo"), xi("xi"), row("row");
  host.compute_root();
  if (!p.is_output(host)) host.reorder_storage(d.c, d.x, d.y, d.n);  // else channels-last
  host.split(d.c, ct, cv, t.vectors * vec).split(d.x, xo, xi, t.pixels)
      .split(cv, cvo, cvi, vec)
      .reorder(cvi, cvo, xi, xo, ct, d.y, d.n)
      .vectorize(cvi).unroll(cvo).unroll(xi);
  const int band = rows_inside || !rows.defined() ? 1 : band_rows(s.height());
  Var yo("yo"), yi("yi");
  if (band > 1) host.split(d.y, yo, yi, band).fuse(yo, d.n, row);
  else host.fuse(d.y, d.n, row);
  // Not one loop over (row, tile) pairs: bounds inference through a second fusion gave
  // up on the accumulators' extent (heap-allocated per tile, measured).
  if (rows_inside) host.reorder(row, ct).parallel(ct);
  else host.parallel(row);
  acc.compute_at(host, xo).reorder_storage(d.c, d.x, d.y, d.n);
  acc.split(d.c, cvo, cvi, vec).vectorize(cvi).unroll(cvo).unroll(d.x);
  Stage update = acc.update();
  const std::vector<RVar> r = rvars_of(update);
  std::vector<VarOrRVar> order{cvi, cvo, d.x, r.back()};
  for (std::size_t k = 0; k + 1 < r.size(); ++k) order.push_back(r[k]);
  order.insert(order.end(), {d.y, d.n});
  update.split(d.c, cvo, cvi, vec).reorder(order).vectorize(cvi).unroll(cvo).unroll(d.x);
  // Where a tap's row of inputs follows the previous tap's in memory (forward, ungrouped,
  // undilated), the channel and kernel-column loops are one: 3x longer inner loops.
  if (fuse_taps) update.fuse(r.back(), r[0], RVar("taps"));
  if (rows.defined()) {
    rows.reorder_storage(d.c, d.x, d.y, d.n).vectorize(d.c, width_for(in_s.channels(), p));
    if (band > 1) rows.store_at(host, row).compute_at(host, yi);
    else rows.compute_at(host, row);
  }
}

// The Func called `name` that f reads (a parameter's view in the flat buffer), or an
// undefined Func.
Func callee(const Func& f, const std::string& name) {
  const auto calls = Internal::find_direct_calls(f.function());
  const auto it = calls.find(name);
  return it == calls.end() ? Func() : Func(it->second);
}

// Output rows per chunk of a weight gradient's pixel reduction: a chunk's output gradient
// and input rows (channels innermost) fit in 256 KB, so they stay in L2 while every
// (tap, input channel tile, output channel tile) pass runs over them. 0: no chunks,
// where one image fits already, or where the chunks' partial sums (a copy of the
// weights each) would outweigh twice the image's activations (ResNet-18's layer3 and
// layer4: 264 MB of partial sums and 12 % of a training step, measured).
int chunk_rows(const Node& node, Shape in_s) {
  constexpr long budget = 256 << 10;
  const Shape s = node.shape;
  const long per_row = 4L * (long(s.width()) * s.channels() +
                             long(in_s.width()) * in_s.channels() * node.stride_h);
  if (per_row * s.height() <= budget) return 0;
  int rows = 1;
  for (int r = 1; r <= s.height(); ++r)
    if (s.height() % r == 0 && per_row * r <= budget) rows = r;
  const long long weights = conv_weights(node, in_s);
  const long long activations = s.elements() + in_s.elements();
  return weights * (s.height() / rows) <= 2 * activations ? rows : 0;
}

// d_weight(kx, ky, ci, co) = sum over pixels and batch: per tile of up to 64 output
// channels (vectors) x 4 input channels at one tap, 16 accumulators stay in registers
// while the pixels run; each gradient vector loaded serves 4 of them. Where an image's
// activations do not fit in L2, every pass over them would stream them from memory
// again (9 taps x C/4 passes): the reduction is then cut into chunks of rows of one
// image (rfactor), each chunk's partial sums computed in parallel with its rows in L2,
// and the chunks' sums added at the end.
// f's args are (kx, ky, a, b): vectors run over b (`vector_channels` of them, a conv's
// output channels), tiles of 4 over a (`other_channels`); `rows` as chunk_rows gives.
void weight_gradient(Func f, int vector_channels, int other_channels, int rows, const Policy& p) {
  const int vec = width_for(vector_channels, p), C = other_channels;
  const int co_tile = std::min(4, std::max(1, vector_channels / vec)) * vec, ci_tile = std::min(4, C);
  Func sum = f;  // the Func whose update runs over the pixels
  std::vector<RVar> pixels = rvars_of(f.update());  // x, y, n of the output
  if (rows > 0) {
    const std::vector<RVar> r = pixels;
    RVar ryo("ryo"), ryi("ryi");
    Var u("u"), v("v");
    f.update().split(r[1], ryo, ryi, rows);
    sum = f.update().rfactor({{ryo, u}, {r[2], v}});
    pixels = {r[0], ryi};  // what sum's update runs over
    const std::vector<Var> a = f.args();  // kx, ky, ci, co
    Var coo("coo"), coi("coi"), t("t"), t2("t2");
    f.compute_root().reorder_storage(a[3], a[2], a[0], a[1]).vectorize(a[3], vec);
    // f's update now runs over the chunks: the RVars handed to rfactor (the schedule's
    // own names for them are qualified, which reorder does not take).
    const std::vector<VarOrRVar> order{coi, ryo, r[2], coo, a[2], a[0], a[1]};
    f.update().split(a[3], coo, coi, vec).reorder(order).vectorize(coi)
        .fuse(a[2], a[0], t).fuse(t, a[1], t2).parallel(t2);
  }
  const std::vector<Var> a = sum.args();  // kx, ky, ci, co (, u, v)
  const Var kx = a[0], ky = a[1], ci = a[2], co = a[3];
  std::vector<Var> storage{co, ci, kx, ky}, chunks(a.begin() + 4, a.end());
  storage.insert(storage.end(), chunks.begin(), chunks.end());
  Var coo("coo"), cov("cov"), cvo("cvo"), cvi("cvi"), cio("cio"), cii("cii"), uv("uv");
  Func tile = sum.in();
  std::vector<VarOrRVar> tile_order{cvi, cvo, cii, coo, kx, ky, cio};
  tile_order.insert(tile_order.end(), chunks.begin(), chunks.end());
  tile.compute_root().reorder_storage(storage)
      .split(co, coo, cov, co_tile).split(ci, cio, cii, ci_tile).split(cov, cvo, cvi, vec)
      .reorder(tile_order).vectorize(cvi).unroll(cvo).unroll(cii);
  if (!chunks.empty()) tile.fuse(chunks[0], chunks[1], uv).parallel(uv);
  else if (C / ci_tile >= 2) tile.parallel(cio);
  else tile.parallel(ky);
  sum.compute_at(tile, coo).reorder_storage(storage);
  sum.split(co, cvo, cvi, vec).vectorize(cvi).unroll(cvo).unroll(ci);
  Stage update = sum.update();
  std::vector<VarOrRVar> order{cvi, cvo, ci};
  order.insert(order.end(), pixels.begin(), pixels.end());
  order.insert(order.end(), {kx, ky});
  order.insert(order.end(), chunks.begin(), chunks.end());
  update.split(co, cvo, cvi, vec).reorder(order).vectorize(cvi).unroll(cvo).unroll(ci);
}

// A sum over pixels and batch per channel (a bias gradient, prelu's slopes): vectorized
// over channels, the reduction outside.
void channel_reduction(Func f, int channels, const Policy& p) {
  const Var ch = f.args()[0];
  const int vec = width_for(channels, p);
  f.compute_root().vectorize(ch, vec);
  cpu::reduction_outside(f.update(), {ch}, {}).vectorize(ch, vec, TailStrategy::GuardWithIf);
}

// A flat layer's sum (dense forward or input gradient) per vector of output features,
// the reduction outside. Flat layers are small next to the convolutions of a wide net.
void features_in_registers(Func out, Func acc, Shape s, const Policy& p) {
  if (!p.claim(out)) return;
  const auto& d = dims();
  const int vec = width_for(s[0], p);
  Var io("io"), ii("ii");
  out.compute_root().split(d.i, io, ii, vec, TailStrategy::GuardWithIf).vectorize(ii)
      .parallel(io);
  acc.compute_at(out, io).vectorize(d.i, vec, TailStrategy::GuardWithIf);
  cpu::reduction_outside(acc.update(), {d.i}, {d.n})
      .vectorize(d.i, vec, TailStrategy::GuardWithIf);
}

// The weights as an input gradient `acc` reads them, copied with the input channels (dim
// `input_dim` of the weight's view, 2 or 3) innermost: the input gradient vectorizes over
// them, and the weights are stored with output channels innermost. Loops in the copy's
// storage order, tasks of 16 output channels.
void weights_for_input_gradient(Func acc, const Parameter& weight, int input_dim, Shape in_s,
                                const Policy& p) {
  Func w = callee(acc, gen::func_name(weight.name));
  if (!w.defined()) return;
  const std::vector<Var> a = w.args();
  const Var ci = a[input_dim], co = a[5 - input_dim];
  w.in(acc).compute_root().reorder_storage(ci, co, a[0], a[1]).reorder(ci, co, a[0], a[1])
      .vectorize(ci, width_for(in_s.channels(), p)).parallel(co, 16, TailStrategy::GuardWithIf);
}

// A conv's output (or input gradient) in register tiles; an NCHW output buffer gets them
// through a channels-innermost copy, a channels-last one directly.
void conv_sum(Func out, Func acc, Func rows, Shape s, Shape in_s, long long weights,
              bool fuse_taps, const Policy& p, ConvKnobs k = {}) {
  if (!p.claim(out)) return;
  if (p.is_output(out) && !p.channels_last) {
    register_tiles(acc.in(out), acc, rows, s, in_s, weights, fuse_taps, p, k);
    p.scheduled.erase(out.name());
    channels_major(out, s, p);
  } else {
    p.bound_output(out, s);  // a channels-last output: the tiles go straight into it
    register_tiles(out, acc, rows, s, in_s, weights, fuse_taps, p, k);
  }
}

// Winograd F(2x2, 3x3) (generators/ops/conv2d.cpp; the Funcs under `prefix`). The 16
// products M(ex, ey, co, t) = sum_ci U(ex, ey, ci, co) V(ex, ey, ci, t) run in register
// tiles of output-channel vectors x tiles along x, as register_tiles runs a conv's
// pixels; the input's tiles V (channels innermost, each tile's transform unrolled) and
// the filter's U (output channels innermost, from the weights' blocks of 16) are staged
// where the products read them. Two ways to share the work, as the conv's `tasks`:
//   rows  — per row of tiles, V and M of the row (in L2), U computed whole first: where
//           U fits in L2 (ResNet's layer1);
//   tiles — per tile of output channels, that tile's U (its slice of the weights read
//           once) and then M over every tile of the image, V computed whole first: where
//           U (16 values per weight pair) would otherwise stream through memory from a
//           whole-filter copy once per row (layer2 to layer4).
// The output transform runs over rows of 2 x 2-pixel tiles in parallel (x % 2 and y % 2
// constants in its unrolled loops). out_s: the sum's output shape (the conv's output, or
// for the input gradient its input); in_s: what it reads.
void winograd_sum(Func host, NodeFuncs& f, const std::string& prefix, Shape out_s, Shape in_s,
                  const Policy& p, ConvKnobs k = {}) {
  if (!p.claim(host)) return;
  const auto& d = dims();
  Func filter = f[prefix + "filter"], filter_x = f[prefix + "filter_x"];
  Func tiles = f[prefix + "tiles"], tiles_x = f[prefix + "tiles_x"];
  Func product = f[prefix + "product"], acc = f[prefix + "product_acc"];
  const int vec_in = width_for(in_s.channels(), p), vec = width_for(out_s.channels(), p);
  const int TX = (out_s.width() + 1) / 2, TY = (out_s.height() + 1) / 2;
  // rows while U (16 floats per weight pair) stays in L2 as every row re-reads it (measured
  // on ResNet-18 at batch 1: layer1's 256 KB, rows 1.2 ms faster over its four convs; layer2's
  // 1 MB, tiles 0.2 ms faster over three; layer3's 4 MB, tiles 1.2 ms faster).
  const long long filter_bytes = 16LL * 4 * in_s.channels() * out_s.channels();
  const bool per_tile = k.tasks == "tiles" || (k.tasks != "rows" && filter_bytes > (512 << 10));
  // The tiles read each input value four times (they overlap by two): stored once, not
  // recomputing the layers before it as often.
  channels_major(f[prefix + "input"], in_s, p);
  // The output transform, per 2 x 2 pixels of a tile, rows of tiles in parallel.
  Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), row("row");
  host.compute_root();
  if (p.is_output(host)) {
    p.bound_output(host, out_s);
  } else {
    host.reorder_storage(d.c, d.x, d.y, d.n).align_bounds(d.x, 2).align_bounds(d.y, 2);
  }
  const TailStrategy tail = p.is_output(host) ? TailStrategy::GuardWithIf : TailStrategy::RoundUp;
  host.split(d.x, xo, xi, 2, tail).split(d.y, yo, yi, 2, tail).reorder(d.c, xi, yi, xo, yo, d.n)
      .vectorize(d.c, vec).unroll(xi).unroll(yi).fuse(yo, d.n, row).parallel(row);
  {  // V(ex, ey, ci, tx, ty, n): per row of tiles, or whole in rows of tiles in parallel;
     // its x transform per tile
    const std::vector<Var> a = tiles.args();
    if (per_tile) tiles.compute_root().fuse(a[4], a[5], row).parallel(row);
    else tiles.compute_at(host, row);
    tiles.reorder_storage(a[2], a[0], a[1], a[3], a[4], a[5])
        .reorder(a[2], a[0], a[1], a[3]).vectorize(a[2], vec_in).unroll(a[0]).unroll(a[1]);
    const std::vector<Var> b = tiles_x.args();
    tiles_x.compute_at(tiles, a[3]).reorder_storage(b[2], b[0], b[1], b[3], b[4], b[5])
        .reorder(b[2], b[0], b[1]).vectorize(b[2], vec_in).unroll(b[0]).unroll(b[1]);
  }
  const std::vector<Var> a = product.args();  // ex, ey, co, tx, ty, n
  const Tile t = tile_with(tile_for(shape(out_s.channels(), 1, TX), vec), k.tile, TX, out_s.channels(), vec);
  Var ct("ct"), cv("cv"), cvo("cvo"), cvi("cvi"), txo("txo"), txi("txi");
  product.reorder_storage(a[2], a[0], a[1], a[3], a[4], a[5])
      .split(a[2], ct, cv, t.vectors * vec).split(cv, cvo, cvi, vec).split(a[3], txo, txi, t.pixels)
      .vectorize(cvi).unroll(cvo).unroll(txi);
  {  // U(ex, ey, ci, co): per input channel, its x transform first (12 vectors); vectors
     // of output channels, loaded whole from the weights' blocks of 16
    const std::vector<Var> u = filter.args(), ux = filter_x.args();
    if (per_tile) filter.compute_at(product, ct).reorder(u[3], u[0], u[1], u[2]).vectorize(u[3], vec);
    else filter.compute_root().split(u[3], ct, cv, vec).reorder(cv, u[0], u[1], u[2], ct).vectorize(cv).parallel(ct);
    filter.reorder_storage(u[3], u[2], u[0], u[1]).unroll(u[0]).unroll(u[1]);
    filter_x.compute_at(filter, u[2]).reorder_storage(ux[3], ux[0], ux[1], ux[2])
        .reorder(ux[3], ux[0], ux[1]).vectorize(ux[3], vec).unroll(ux[0]).unroll(ux[1]);
  }
  if (per_tile) {  // M whole: tasks of output channels, each (ex, ey)'s U slice reused by every tile
    product.compute_root().reorder(cvi, cvo, txi, txo, a[4], a[5], a[0], a[1], ct).parallel(ct);
  } else {  // M of the row of tiles
    product.compute_at(host, row).reorder(cvi, cvo, txi, txo, ct, a[0], a[1], a[4], a[5]);
  }
  acc.compute_at(product, txo).reorder_storage(a[2], a[3], a[0], a[1], a[4], a[5]);
  acc.split(a[2], cvo, cvi, vec).reorder(cvi, cvo, a[3]).vectorize(cvi).unroll(cvo).unroll(a[3]);
  Stage update = acc.update();
  update.split(a[2], cvo, cvi, vec).reorder(cvi, cvo, a[3], rvars_of(update)[0], a[0], a[1], a[4], a[5])
      .vectorize(cvi).unroll(cvo).unroll(a[3]);
}

// im2col (generators/ops/conv2d.cpp): the columns and the weight matrix computed whole
// (each with its long dim innermost), the product in conv_sum's register tiles; in
// training the two products of the adjoint vectorized over their innermost dim, and
// col2im's gather over channels.
void im2col_funcs(NodeFuncs& f, Shape in_s, const Policy& p) {
  Func columns = f["columns"], matrix = f["weight_matrix"];
  const std::vector<Var> a = columns.args();  // k, x, y, group, n
  Var row("row");
  columns.compute_root().vectorize(a[0], p.lanes, TailStrategy::GuardWithIf).fuse(a[2], a[4], row)
      .parallel(row);
  const std::vector<Var> m = matrix.args();  // k, co
  matrix.compute_root().reorder_storage(m[1], m[0]).reorder(m[1], m[0])
      .vectorize(m[1], p.lanes, TailStrategy::GuardWithIf).parallel(m[0], 16, TailStrategy::GuardWithIf);
  if (!f.has("d_columns")) return;
  for (const char* role : {"d_weight_matrix", "d_columns"}) {  // out(k, ...) = acc: a sum per k vector
    Func out = f[role], acc = f[std::string(role) + "_acc"];
    const std::vector<Var> v = out.args();
    out.compute_root().vectorize(v[0], p.lanes, TailStrategy::GuardWithIf).parallel(v.back());
    acc.compute_at(out, v.back()).vectorize(v[0], p.lanes, TailStrategy::GuardWithIf);
    cpu::reduction_outside(acc.update(), {v[0]}, {}).vectorize(v[0], p.lanes, TailStrategy::GuardWithIf);
  }
  channels_major(f["d_in0"], in_s, p);
}

// Pass 0 claims the register-tiled sums; pass 1 everything else, so that a Func that is
// both (a conv's d_out being the next conv's d_in0) gets its tiles.
// `host`: where a conv's register tiles are stored — its own output, or in inference the
// output of the batch norm that alone reads it (conv + batch norm fused: the tiles are
// scaled and shifted on their way out, and the conv's own output is never stored).
void schedule_node(const Node& node, Shape in_s, int index, const ModelView& model,
                   NodeFuncs& f, Func host, const gen::Context& ctx, const Policy& p, int pass) {
  const gen::ConvLowering lowering = ctx.lowering_of(node);
  const ConvKnobs k = conv_knobs(ctx.knobs, node);
  auto has = [&](const char* role) { return f.has(role); };
  const bool padded = node.pad_h > 0 || node.pad_w > 0;  // else "padded" is an alias
  const bool training = has("d_weight");
  switch (node.op) {
    case Op::conv2d:
      if (pass == 0 && lowering == gen::ConvLowering::winograd) {
        winograd_sum(host, f, "winograd_", node.shape, in_s, p, k);
        if (has("d_in0")) winograd_sum(f["d_in0"], f, "d_in_winograd_", in_s, node.shape, p, k);
      } else if (pass == 0 && lowering == gen::ConvLowering::im2col) {
        im2col_funcs(f, in_s, p);
        conv_sum(host, f["out_acc"], Func(), node.shape, in_s, conv_weights(node, in_s), false, p, k);
      } else if (pass == 0) {
        const long long weights = conv_weights(node, in_s);
        // The padded input is read by the forward sum and the weight gradient: copied
        // whole when both need it, else per output row.
        conv_sum(host, f["out_acc"], padded && !training ? f["padded"] : Func(), node.shape,
                 in_s, weights, node.groups == 1 && node.dilation_w == 1, p, k);
        if (!has("d_in0")) break;
        // w(kx, ky, ci, co): dim 2 holds the input channels.
        weights_for_input_gradient(f["d_in0_acc"], model.parameters_of(index)[0], 2, in_s, p);
        conv_sum(f["d_in0"], f["d_in0_acc"], f["d_out_upsampled"], in_s, node.shape, weights,
                 false, p);
      } else if (training) {
        if (padded) channels_major(f["padded"], in_s, p);
        // The gradient reaching the conv is read by three sums: computed once.
        channels_major(f["d_out"], node.shape, p);
        if (lowering != gen::ConvLowering::im2col)  // im2col's is its d_weight_matrix
          weight_gradient(f["d_weight"], node.units, in_s.channels(), chunk_rows(node, in_s), p);
        if (has("d_bias")) channel_reduction(f["d_bias"], node.units, p);
      }
      break;
    case Op::conv_transpose2d:
      if (pass == 0) {
        // As conv2d's, with the input's rows (zero outside) copied per row of outputs.
        const long long weights = conv_weights(node, in_s);
        conv_sum(host, f["out_acc"], f["padded"], node.shape, in_s, weights, false, p);
        if (!has("d_in0")) break;
        // w(kx, ky, co, ci): dim 3 holds the input channels.
        weights_for_input_gradient(f["d_in0_acc"], model.parameters_of(index)[0], 3, in_s, p);
        conv_sum(f["d_in0"], f["d_in0_acc"], f["d_out_padded"], in_s, node.shape, weights, false, p);
      } else if (training) {
        channels_major(f["d_out"], node.shape, p);
        // d_weight(kx, ky, co, ci): vectors over input channels, the sum over input pixels.
        weight_gradient(f["d_weight"], in_s.channels(), node.units, 0, p);
        if (has("d_bias")) channel_reduction(f["d_bias"], node.units, p);
      }
      break;
    case Op::dense:
      if (pass == 0) {
        features_in_registers(f["out"], f["out_acc"], node.shape, p);
        if (has("d_in0")) features_in_registers(f["d_in0"], f["d_in0_acc"], in_s, p);
      } else if (training) {
        cpu::outer_product_sum(f["d_weight"], f["in_t"], p);
        if (has("d_bias")) channel_reduction(f["d_bias"], node.units, p);
      }
      break;
    default:
      break;
  }
  if (pass == 0) return;
  switch (node.op) {
    case Op::max_pool:
    case Op::avg_pool:
      if (padded) channels_major(f["padded"], in_s, p);
      channels_major(has("argmax") ? f["argmax"] : f["out"], node.shape, p);
      if (has("d_in0")) channels_major(f["d_in0"], in_s, p);
      break;
    case Op::flatten:
    case Op::global_avg_pool:
      channels_major(f["out"], node.shape, p);
      if (has("d_in0")) channels_major(f["d_in0"], in_s, p);
      break;
    case Op::upsample_bilinear:
      channels_major(f["out"], node.shape, p);
      if (has("d_in0")) {
        const Shape rows = shape(in_s.channels(), node.shape.height(), in_s.width());
        channels_major(f["d_in_rows"], rows, p);
        channels_major(f["d_in0"], in_s, p);
      }
      break;
    case Op::maxout:  // out reads the argmax's second element inline, as max_pool's
      channels_major(f["argmax"], node.shape, p);
      if (has("d_in0")) channels_major(f["d_in0"], in_s, p);
      break;
    case Op::prelu:  // out and d_in0 inline like relu's; the slopes' gradient is a sum
      if (has("d_weight")) channel_reduction(f["d_weight"], node.shape[0], p);
      break;
    case Op::batch_norm: {  // the statistics are sums per channel; out and d_in0 materialized
      const int channels = node.shape.is_image() ? node.shape.channels() : node.shape[0];
      for (const char* role : {"sum", "squares", "d_bias", "centered_sum"})
        if (has(role)) channel_reduction(f[role], channels, p);
      for (const char* role : {"mean", "inv_std", "scale", "shift"}) f[role].compute_root();
      channels_major(f["out"], node.shape, p);
      if (has("d_in0")) channels_major(f["d_in0"], in_s, p);
      break;
    }
    case Op::softmax_cross_entropy:
      for (const char* role : {"max", "logsumexp"}) {
        f[role].compute_root();  // flat logits: one value per sample, scalar (no lanes past N)
        if (in_s.is_image())     // per pixel: vectors along rows, images in parallel
          f[role].vectorize(dims().x, width_for(in_s.width(), p)).parallel(dims().n);
      }
      if (has("d_in0")) channels_major(f["d_in0"], in_s, p);
      break;
    case Op::target_loss:  // the adjoint is read by the head's three sums: computed once
      f["out"].compute_root();  // a sum (with heads(...), one of several)
      if (has("d_in0")) channels_major(f["d_in0"], in_s, p);
      break;
    case Op::affine_sample:
      if (pass == 1) cpu::affine_sample_node(f, p);
      break;
    default:
      break;  // conv2d, dense above; activations, dropout, normalize, add, concat: inlined
  }
  if (has("d_out_sum")) channels_major(f["d_out_sum"], node.shape, p);
}

}  // namespace

void cpu_channels(const ModelView& model, gen::LoweredModel& lowered, Entry entry,
                  const EntryOutputs& outputs, const Target& target) {
  Policy p{target.natural_vector_size<float>(), {}, outputs.channels_last, {}};
  for (const Func& f : outputs.outputs) p.outputs.insert(f.name());
  // A few input channels (RGB) are read in place by the first layer's row copies, and
  // so is a channels-last input.
  const Shape in_s = model.input_shape();
  if (in_s.is_flat() || (in_s.channels() >= 8 && !p.channels_last))
    channels_major(lowered.nodes[0]["out"], in_s, p);
  std::vector<int> readers(model.nodes.size(), 0);
  for (std::size_t i = 1; i < model.nodes.size(); ++i)
    for (int k = 0; k < model.nodes[i].input_count(); ++k) ++readers[model.nodes[i].inputs[k]];
  // Inference: a conv read only by a batch norm stores its tiles through it.
  auto host_of = [&](std::size_t i) {
    // A channels-last output is written by the output node's tiles themselves.
    if (p.channels_last && entry == Entry::forward && int(i) == model.output_node &&
        model.output_shape().is_image())
      return outputs.outputs[0];
    Func own = lowered.nodes[i].has("out") ? lowered.nodes[i]["out"] : Func();
    const int j = tune::sole_batch_norm_reader(model, int(i));
    const bool fused = entry == Entry::forward && model.nodes[i].op == Op::conv2d && j >= 0 && !p.is_output(own);
    return fused ? lowered.nodes[j]["out"] : own;
  };
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t i = 1; i < model.nodes.size(); ++i) {
      const Node& node = model.nodes[i];
      if (cpu::is_sequence_node(model, i)) {  // regions of a two-stage detector, a decoder
        if (pass == 0) cpu::sequence_node(node, cpu::input_shape_of(model, i), cpu::input_shape_of(model, i, 1), lowered.nodes[i], p);
        continue;
      }
      schedule_node(node, cpu::input_shape_of(model, i), int(i), model, lowered.nodes[i],
                    host_of(i), lowered.ctx, p, pass);
    }
  // A value several layers read (a residual block's output: the next block's convs and
  // its shortcut) is stored once. Inlined, every reader would recompute it, inside the
  // conv sums once per tile of output channels, and through a chain of identity
  // shortcuts the whole stage's adds (measured: ResNet-50's first 1x1 conv of layer4 took
  // 7 ms for 0.2 GFLOP with its input inlined).
  for (std::size_t i = 1; i < model.nodes.size(); ++i)
    if (readers[i] >= 2 && lowered.nodes[i].has("out"))
      channels_major(lowered.nodes[i]["out"], model.nodes[i].shape, p);
  // Outputs that are an inlined op (a model ending in relu, the input's gradient through
  // one) or a sum of adjoints still want vectors.
  const Shape out_shape = entry == Entry::forward ? model.output_shape() : model.input_shape();
  const Func last = entry == Entry::forward ? outputs.outputs[0]
                    : entry == Entry::gradients ? outputs.outputs[2] : Func();
  if (last.defined()) channels_major(last, out_shape, p);
  cpu::flat_buffers(lowered, outputs, p);
}

}  // namespace kiln::schedules
