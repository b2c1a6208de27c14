// attention_lstm — an LSTM that attends over a feature grid at every step (dsl/layers.hpp).
// Inputs: x (T, E) (the embedded words), a feature grid (C, h, w) of L = h w locations.
// Parameters (PyTorch's nn.LSTMCell(E + C, H) names with _l0, plus the keys): w_ih(e, g)
// [4H, E + C] (columns 0..E-1 read x_t, E.. the context z_t), w_hh(k, g) [4H, H], b_ih,
// b_hh [4H], key.weight w_k(c, k) [H, C] (no bias: it would add b_k . h to every score,
// which the softmax cancels). With a(c, l, n) the grid's
// location l = x + w y:
//   keys(k, l, n) = sum_c w_k(c, k) a(c, l, n)                 all locations at once
//   xproj(g, n, t) = b_ih(g) + b_hh(g) + sum_{e < E} w_ih(e, g) x(e, t, n)   all steps at once
//   states(j, n, t): the time loop (generators/cells/sequence_loop.cpp), step after step
//     e_l = keys_l . h_{t-1};  alpha = softmax_l(e);  z = sum_l alpha_l a_l;
//     gates = xproj_t + [w_hh | w_ih(E..)] [h_{t-1}; z];  c, h as an LSTM's
//     rows: h, c, the gates i f g o (as lstm's), then z (C) and alpha (L)  (cells.hpp)
//   out(i, t, n) = [h; z](i) at step t
// Adjoint (backpropagation through time), with d_out split into d_h (i < H) and d_zo:
//   d_all(j, n, t) = the loop backward from T - 1: d_gates (4H), d_z (C, all of d loss /
//     d z_t: from the gates and from d_zo), d_e (L, at the scores)
//   d_w_ih(e, g) = sum_{t, n} d_gates(g, n, t) [x; z](e, t, n)   d_b_ih = d_b_hh = sum d_gates
//   d_w_hh(k, g) = sum_{t >= 1, n} d_gates(g, n, t) h(k, n, t - 1)
//   d_keys(k, l, n) = sum_{t >= 1} d_e(l, n, t) h(k, n, t - 1)       (h before step 0 is 0)
//   d_w_k(c, k) = sum_{l, n} d_keys(k, l, n) a(c, l, n)
//   d_a(c, l, n) = sum_t alpha(l, n, t) d_z(c, n, t) + sum_k w_k(c, k) d_keys(k, l, n)
//   d_in0(e, t, n) = sum_g w_ih(e, g) d_gates(g, n, t)           d_in1 = d_a on the grid
#include "generators/cells/cells.hpp"
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {
// The sizes of one attention_lstm: hidden H, word features E, grid channels C, locations L.
struct Sizes {
  int H, E, C, L, T;
};
Sizes sizes_of(const Node& node, const Tensor& words, const Tensor& grid) {
  return {node.units, words.shape[1], grid.shape.channels(), grid.shape.height() * grid.shape.width(),
          words.shape[0]};
}
}  // namespace

void attention_lstm_forward(const Node& node, const Tensor& words, const Tensor& grid,
                            std::span<const Func> p, NodeFuncs& f) {
  const auto& d = dims();
  const Sizes s = sizes_of(node, words, grid);
  const int W = grid.shape.width();
  const std::string name = func_name(node.name);
  const Func &w_ih = p[0], &w_hh = p[1], &b_ih = p[2], &b_hh = p[3], &w_k = p[4];
  Var g("g"), j("j"), k("k"), l("l"), c("c_");
  // The grid's locations in the two orders the steps read them: channels innermost (the
  // context's weighted sum), locations innermost (the adjoint's scores).
  Func features(name + "_features"), features_t(name + "_features_t");
  features(c, l, d.n) = grid.f(l % W, l / W, c, d.n);
  features_t(l, c, d.n) = features(c, l, d.n);
  RDom rc(0, s.C, "r_channels");
  Func w_k_t(name + "_w_k_t");  // key rows innermost
  w_k_t(k, c) = w_k(c, k);
  accumulate(f, "keys", name + "_keys", {k, l, d.n}, 0.0f, w_k_t(k, rc) * features(rc, l, d.n));
  Func keys_t(name + "_keys_t");  // locations innermost: a step's scores vectorize over them
  keys_t(l, k, d.n) = f["keys"](k, l, d.n);
  RDom re(0, s.E, "r_in");
  Func w_ih_t(name + "_w_ih_t");
  w_ih_t(g, k) = w_ih(k, g);
  accumulate(f, "xproj", name + "_xproj", {g, d.n, d.t}, b_ih(g) + b_hh(g), w_ih_t(g, re) * words.f(re, d.t, d.n));
  // The step's product reads [h_{t-1}; z_t] through [w_hh | w_ih's context columns].
  Func w_gk(name + "_w_gk");
  w_gk(g, j) = select(j < s.H, w_hh(min(j, s.H - 1), g), w_ih(clamp(s.E + j - s.H, s.E, s.E + s.C - 1), g));
  Func states(name + "_states");
  states.define_extern("kiln_attention_forward",
                       {Expr(s.H), Expr(s.C), Expr(s.L), f["xproj"], w_gk, keys_t, features}, Float(32),
                       {j, d.n, d.t}, NameMangling::C);
  states.bound(j, 0, cells::attention_state_rows(s.H, s.C, s.L)).bound(d.t, 0, s.T);
  const int z_row = cells::attention_context_row(s.H), alpha_row = z_row + s.C;
  Func h(name + "_h"), out(name), attention(name + "_attention");
  h(k, d.n, d.t) = states(k, d.n, d.t);
  out(d.i, d.t, d.n) = select(d.i < s.H, states(min(d.i, s.H - 1), d.n, d.t),
                              states(clamp(z_row + d.i - s.H, z_row, alpha_row - 1), d.n, d.t));
  attention(l, d.t, d.n) = states(alpha_row + l, d.n, d.t);
  f["features"] = features;
  f["features_t"] = features_t;
  f["w_k_t"] = w_k_t;
  f["keys_t"] = keys_t;
  f["w_ih_t"] = w_ih_t;
  f["w_gk"] = w_gk;
  f["states"] = states;
  f["h"] = h;
  f["attention"] = attention;
  f["out"] = out;
}

void attention_lstm_adjoint(const Node& node, const Tensor& words, const Tensor& grid,
                            std::span<const Func> p, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const Sizes s = sizes_of(node, words, grid);
  const int W = grid.shape.width(), GH = 4 * s.H;
  const std::string name = func_name(node.name);
  const Func &w_ih = p[0], &w_hh = p[1], &w_k = p[4];
  const Func states = f["states"], h = f["h"], features = f["features"];
  const int z_row = cells::attention_context_row(s.H), alpha_row = z_row + s.C;
  const int dz_row = GH, de_row = GH + s.C;
  Var g("g"), j("j"), k("k"), l("l"), c("c_");
  Func d_hz(name + "_d_hz");  // d loss / d [h; z] at every step, from the layers above
  d_hz(j, d.n, d.t) = f["d_out"](j, d.t, d.n);
  Func w_kg(name + "_w_kg");  // the step product's weights with the gate rows outermost
  w_kg(j, g) = f["w_gk"](g, j);
  Func d_all(name + "_d_all");
  d_all.define_extern("kiln_attention_backward",
                      {Expr(s.H), Expr(s.C), Expr(s.L), states, d_hz, w_kg, f["keys"], f["features_t"]},
                      Float(32), {g, d.n, d.t}, NameMangling::C);
  d_all.bound(g, 0, cells::attention_gradient_rows(s.H, s.C, s.L)).bound(d.t, 0, s.T);

  RDom rows(0, s.T, 0, ctx.batch, "r_rows");  // every step of every sample
  const Expr rt = rows.x, rn = rows.y;
  Func in_t(name + "_in_t");  // [x; z] at every step: what the input weights multiply
  in_t(d.i, d.t, d.n) = select(d.i < s.E, words.f(min(d.i, s.E - 1), d.t, d.n),
                               states(clamp(z_row + d.i - s.E, z_row, alpha_row - 1), d.n, d.t));
  Func d_w_ih(name + "_d_weight_ih"), d_w_hh(name + "_d_weight_hh");
  Func d_b_ih(name + "_d_bias_ih"), d_b_hh(name + "_d_bias_hh");
  d_w_ih(k, g) = 0.0f;
  d_w_ih(k, g) += d_all(g, rn, rt) * in_t(k, rt, rn);
  d_w_hh(k, g) = 0.0f;
  Func d_keys(name + "_d_keys");
  d_keys(k, l, d.n) = 0.0f;
  if (s.T > 1) {
    RDom later(1, s.T - 1, 0, ctx.batch, "r_later_rows");
    d_w_hh(k, g) += d_all(g, later.y, later.x) * h(k, later.y, later.x - 1);
    RDom later_steps(1, s.T - 1, "r_later_steps");
    d_keys(k, l, d.n) += d_all(de_row + l, d.n, later_steps) * h(k, d.n, later_steps - 1);
  }
  d_b_ih(g) = 0.0f;
  d_b_ih(g) += d_all(g, rn, rt);
  d_b_hh(g) = 0.0f;
  d_b_hh(g) += d_all(g, rn, rt);
  RDom places(0, s.L, 0, ctx.batch, "r_places");  // every location of every sample
  Func d_w_k(name + "_d_key_weight");
  d_w_k(c, k) = 0.0f;
  d_w_k(c, k) += d_keys(k, places.x, places.y) * features(c, places.x, places.y);
  RDom steps(0, s.T, "r_steps"), rk(0, s.H, "r_keys");
  Func d_features(name + "_d_features");
  d_features(c, l, d.n) = 0.0f;
  d_features(c, l, d.n) += states(alpha_row + l, d.n, steps) * d_all(dz_row + c, d.n, steps);
  d_features(c, l, d.n) += w_k(c, rk) * d_keys(rk, l, d.n);
  Func d_grid(name + "_d_in1");
  d_grid(d.x, d.y, d.c, d.n) = d_features(d.c, d.x + W * d.y, d.n);
  RDom rg(0, GH, "r_gates");
  accumulate(f, "d_in0", name + "_d_in0", {d.i, d.t, d.n}, 0.0f, w_ih(d.i, rg) * d_all(rg, d.n, d.t));
  f["d_hz"] = d_hz;
  f["w_kg"] = w_kg;
  f["d_all"] = d_all;
  f["in_t"] = in_t;
  f["d_weight_ih"] = d_w_ih;
  f["d_weight_hh"] = d_w_hh;
  f["d_bias_ih"] = d_b_ih;
  f["d_bias_hh"] = d_b_hh;
  f["d_keys"] = d_keys;
  f["d_key_weight"] = d_w_k;
  f["d_features"] = d_features;
  f["d_in1"] = d_grid;
}

}  // namespace kiln::gen::ops
