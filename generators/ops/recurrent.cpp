// Sequence ops: embedding, one_hot, and the recurrent layers rnn, lstm and gru.
//
// embedding  ids (T, 1) -> out(i, t, n) = w(i, id(t, n)), w(i, v) the [V, D] table
//            d_weight(i, v) = sum over (t, n) with id(t, n) = v of d_out(i, t, n); no d_in
// one_hot    ids (T, 1) -> out(i, t, n) = [i = id(t, n)]; no parameters, no d_in
// (ids are clamped to [0, V); a token input has no gradient: d_in is zero.)
//
// rnn / lstm / gru: in (T, F) -> h (T, H) (last_step: h at T - 1, (H)). With G gate blocks
// (gate_count: 1, 4, 3) and PyTorch's parameters w_ih(f, g) [G H, F], w_hh(k, g) [G H, H],
// b_ih, b_hh [G H]:
//   xproj(g, n, t) = sum_f w_ih(f, g) in(f, t, n) + b_ih(g) (+ b_hh(g) but for gru)
//     one matrix product over every step at once;
//   states(j, n, t) = the cell applied step after step (generators/cells/cells.hpp): h, and
//     what the adjoint reads again (lstm: c and the gate activations); T + 1 steps, the
//     first the state the window starts from (f["initial"], the layer's slice of the
//     carried state, graph.cpp), so that h(k, n, t) = states(k, n, t + 1);
// Halide 14 pipelines are acyclic, and a step needs a matrix product of the step before,
// so the time loop is an extern stage (generators/cells/sequence_loop.cpp) that calls an
// AOT-compiled step pipeline once per step (generators/cells/cells.cpp).
// Adjoint (backpropagation through time), with g = d_out:
//   d_gates(g, n, t) = the step adjoints from T - 1 down to 0 (same extern stage): the
//     gradient at each step's gate pre-activations (gru: the input side's 3H rows, then
//     the hidden side's 3H, which differ in the n gate);
//   d_w_ih(f, g) = sum_{t, n} dx(g, n, t) in(f, t, n)      d_b_ih(g) = sum_{t, n} dx(g, n, t)
//   d_w_hh(k, g) = sum_{t, n} dh(g, n, t) states(k, n, t) (h before step t)   d_b_hh(g) = sum_{t, n} dh(g, n, t)
//   d_in(f, t, n) = sum_g w_ih(f, g) dx(g, n, t)
// with dx, dh the input- and hidden-side rows of d_gates (the same rows but for gru).
// Nothing flows back into the initial state (truncated backpropagation through time).
#include "generators/cells/cells.hpp"
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {
Expr token_id(const Tensor& in, int vocabulary) {
  const auto& d = dims();
  return clamp(cast<int>(in.f(0, d.t, d.n)), 0, vocabulary - 1);
}
}  // namespace

void embedding_forward(const Node& node, const Tensor& in, const Func& w, NodeFuncs& f) {
  const auto& d = dims();
  Func out(func_name(node.name));
  Func id(func_name(node.name, "id"));
  id(d.t, d.n) = token_id(in, node.vocabulary);
  if (node.op == Op::embedding) out(d.i, d.t, d.n) = w(d.i, id(d.t, d.n));
  else out(d.i, d.t, d.n) = select(d.i == id(d.t, d.n), 1.0f, 0.0f);
  f["id"] = id;
  f["out"] = out;
}

void embedding_adjoint(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  Func d_in(func_name(node.name, "d_in0"));
  d_in(d.i, d.t, d.n) = 0.0f;
  f["d_in0"] = d_in;
  if (node.op != Op::embedding) return;
  Var v("v");
  RDom r(0, in.shape[0], 0, ctx.batch, "r_rows");
  Func d_weight(func_name(node.name, "d_weight"));
  d_weight(d.i, v) = 0.0f;
  d_weight(d.i, f["id"](r.x, r.y)) += f["d_out"](d.i, r.x, r.y);
  f["d_weight"] = d_weight;
}

void recurrent_forward(const Node& node, const Tensor& in, std::span<const Func> p, NodeFuncs& f) {
  const auto& d = dims();
  const cells::Cell cell = cells::cell_of(node.op);
  const int F = in.shape[1], T = in.shape[0];
  const std::string name = func_name(node.name);
  const Func &w_ih = p[0], &w_hh = p[1], &b_ih = p[2], &b_hh = p[3];
  Var g("g"), k("k");
  RDom r(0, F, "r_in");
  Expr bias = b_ih(g);
  if (cell != cells::Cell::gru) bias += b_hh(g);
  Func w_ih_t(name + "_w_ih_t");  // gate rows innermost, for the product to vectorize over
  w_ih_t(g, k) = w_ih(k, g);
  accumulate(f, "xproj", name + "_xproj", {g, d.n, d.t}, bias, w_ih_t(g, r) * in.f(r, d.t, d.n));
  f["w_ih_t"] = w_ih_t;
  // The hidden weights with the gate rows innermost (what a step's product vectorizes
  // over), and the biases the gru step adds inside its n gate.
  Func w_gk(name + "_w_gk"), b_step(name + "_b_hh");
  w_gk(g, k) = w_hh(k, g);
  b_step(g) = b_hh(g);
  Func states(name + "_states");
  states.define_extern("kiln_recurrent_forward",
                       {Expr(int(cell)), f["xproj"], w_gk, b_step, f["initial"]}, Float(32), {k, d.n, d.t},
                       NameMangling::C);
  // Every row and every step: the loop needs the steps before any it is asked for.
  states.bound(k, 0, cells::state_rows(cell, node.units)).bound(d.t, 0, T + 1);
  // h: the first rows of the state. The loop computes exactly its bounds (all rows and
  // steps), so schedules must not round loops over its readers past them.
  Func h(name + "_h");
  h(k, d.n, d.t) = states(k, d.n, d.t + 1);
  Func out(name);
  if (node.last_step) out(d.i, d.n) = h(d.i, d.n, T - 1);
  else out(d.i, d.t, d.n) = h(d.i, d.n, d.t);
  f["w_gk"] = w_gk;
  f["b_step"] = b_step;
  f["states"] = states;
  f["h"] = h;
  f["out"] = out;
}

void recurrent_adjoint(const Node& node, const Tensor& in, std::span<const Func> p,
                       const Context& ctx, NodeFuncs& f) {
  const auto& d = dims();
  const cells::Cell cell = cells::cell_of(node.op);
  const int H = node.units, G = gate_count(node.op), T = in.shape[0];
  const std::string name = func_name(node.name);
  const Func &w_ih = p[0], &w_hh = p[1];
  Func g_out = f["d_out"], states = f["states"];
  Var g("g"), k("k");
  Func d_h(name + "_d_h");  // d loss / d h at every step, from the layers above
  if (node.last_step) d_h(k, d.n, d.t) = select(d.t == T - 1, g_out(k, d.n), 0.0f);
  else d_h(k, d.n, d.t) = g_out(k, d.t, d.n);
  Func w_kg(name + "_w_kg");
  w_kg(k, g) = w_hh(k, g);
  Func d_gates(name + "_d_gates");
  d_gates.define_extern("kiln_recurrent_backward", {Expr(int(cell)), states, d_h, w_kg}, Float(32),
                        {g, d.n, d.t}, NameMangling::C);
  d_gates.bound(g, 0, cells::gradient_rows(cell, H)).bound(d.t, 0, T);
  const int hidden_side = cell == cells::Cell::gru ? G * H : 0;
  // Sums over every step of every sample.
  RDom rows(0, T, 0, ctx.batch, "r_rows");
  const Expr rt = rows.x, rn = rows.y;
  Func in_t(name + "_in_t");  // the input again, for a schedule to lay out
  in_t(d.i, d.t, d.n) = in.f(d.i, d.t, d.n);
  Func d_w_ih(name + "_d_weight_ih"), d_w_hh(name + "_d_weight_hh");
  Func d_b_ih(name + "_d_bias_ih"), d_b_hh(name + "_d_bias_hh");
  d_w_ih(k, g) = 0.0f;
  d_w_ih(k, g) += d_gates(g, rn, rt) * in_t(k, rt, rn);
  d_w_hh(k, g) = 0.0f;  // h before each step: the window's initial state, then h(t - 1)
  d_w_hh(k, g) += d_gates(g + hidden_side, rn, rt) * states(k, rn, rt);
  d_b_ih(g) = 0.0f;
  d_b_ih(g) += d_gates(g, rn, rt);
  d_b_hh(g) = 0.0f;
  d_b_hh(g) += d_gates(g + hidden_side, rn, rt);
  RDom rg(0, G * H, "r_gates");
  accumulate(f, "d_in0", name + "_d_in0", {d.i, d.t, d.n}, 0.0f, w_ih(d.i, rg) * d_gates(rg, d.n, d.t));
  f["d_h"] = d_h;
  f["w_kg"] = w_kg;
  f["d_gates"] = d_gates;
  f["in_t"] = in_t;
  f["d_weight_ih"] = d_w_ih;
  f["d_weight_hh"] = d_w_hh;
  f["d_bias_ih"] = d_b_ih;
  f["d_bias_hh"] = d_b_hh;
}

}  // namespace kiln::gen::ops
