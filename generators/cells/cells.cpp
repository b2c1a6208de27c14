// The per-step pipelines of the recurrent cells (layout in cells.hpp), as Halide
// generators built once per CPU target for any hidden size and batch:
//   kiln_<cell>_step_forward(w_gk, b_hh, xproj, prev) -> state
//     w_gk(g, k) = W_hh[g][k] (gate rows innermost), b_hh(g), xproj(g, n) = W_ih x + b_ih
//     (+ b_hh but for gru) at this step, prev(j, n) the state at the step before (zeros
//     before the first), state(j, n) the state at this step.
//   kiln_<cell>_step_backward(w_kg, state, prev, d_h, carry) -> d_gates, carry_out
//     w_kg(k, g) = W_hh[g][k] (PyTorch's order), d_h(j, n) d loss / d h from the layers
//     above, carry(j, n) the rows d h, d c from the step after (zeros after the last),
//     d_gates(g, n) as cells.hpp says, carry_out the same rows for the step before.
// The equations are PyTorch's (nn.RNN with tanh, nn.LSTM, nn.GRU):
//   rnn   h = tanh(xproj + W_hh h_prev)
//   lstm  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of xproj + W_hh h_prev
//         c = f c_prev + i g     h = o tanh(c)
//   gru   hn = W_hn h_prev + b_hn    r, z = sigmoid(xproj_{r,z} + W_h{r,z} h_prev + b_h{r,z})
//         n = tanh(xproj_n + r hn)   h = (1 - z) n + z h_prev
// Schedule: the step's matrix product (G H x H by H x N) in register tiles of 64 gate
// rows (4 vectors) x 4 samples, parallel over tiles of rows; the elementwise rest inline.
#include "generators/cells/cells.hpp"

#include <Halide.h>

namespace kiln::gen::cells {
namespace {
using namespace Halide;

Expr sigmoid(Expr v) { return 1.0f / (1.0f + exp(-v)); }

// A copy of `b` read with every coordinate clamped to the buffer, so that schedules may
// round loops up past its edges.
Func clamped(const Func& b, const std::vector<Expr>& min, const std::vector<Expr>& max,
             const std::string& name) {
  std::vector<Var> args(min.size());
  std::vector<Expr> at;
  for (std::size_t k = 0; k < args.size(); ++k) at.push_back(clamp(args[k], min[k], max[k]));
  Func f(name);
  f(args) = b(at);
  return f;
}

// out(r, n) = init(r, n) + sum_k a(r, k) b(k, n): a register-tiled product, rows
// innermost (vectorized), parallel over tiles of rows.
void schedule_product(Func out, Func acc, const RDom& k, const Target& target) {
  const int lanes = target.natural_vector_size<float>();
  Var r = out.args()[0], n = out.args()[1];
  Var ro("ro"), ri("ri"), no("no"), ni("ni"), rv("rv"), ru("ru");
  const int rows = 4 * lanes, samples = 4;
  out.compute_root()
      .split(r, ro, ri, rows, TailStrategy::GuardWithIf)
      .split(n, no, ni, samples, TailStrategy::GuardWithIf)
      .reorder(ri, ni, ro, no)
      .vectorize(ri, lanes, TailStrategy::GuardWithIf)
      .parallel(no);
  Var ar = acc.args()[0], an = acc.args()[1];
  acc.compute_at(out, ro).bound_extent(ar, rows).bound_extent(an, samples);
  acc.split(ar, ru, rv, lanes).vectorize(rv).unroll(ru).unroll(an);
  acc.update().split(ar, ru, rv, lanes).reorder(rv, ru, an, k).vectorize(rv).unroll(ru).unroll(an);
}

class StepForward : public Generator<StepForward> {
 public:
  GeneratorParam<int> cell_kind{"cell", 0};
  Input<Buffer<float>> w_gk{"w_gk", 2};
  Input<Buffer<float>> b_hh{"b_hh", 1};
  Input<Buffer<float>> xproj{"xproj", 2};
  Input<Buffer<float>> prev{"prev", 2};
  Output<Buffer<float>> state{"state", 2};

  void generate() {
    const Cell cell = Cell(int(cell_kind));
    Var g("g"), n("n"), j("j");
    Expr H = w_gk.dim(1).extent(), GH = w_gk.dim(0).extent();
    Expr n0 = prev.dim(1).min(), n1 = prev.dim(1).max();
    Func w = clamped(w_gk, {0, 0}, {GH - 1, H - 1}, "w_clamped");
    Func h_prev = clamped(prev, {0, n0}, {H - 1, n1}, "h_prev");
    Func x = clamped(xproj, {0, n0}, {GH - 1, n1}, "x_clamped");
    RDom k(0, H, "k");
    Func acc("acc"), pre("pre");
    acc(g, n) = cell == Cell::gru ? b_hh(clamp(g, 0, GH - 1)) : 0.0f;
    acc(g, n) += w(g, k) * h_prev(k, n);
    pre(g, n) = acc(g, n);  // W_hh h_prev (+ b_hh for gru), per gate row
    auto at = [&](Expr row) { return clamp(row, 0, GH - 1); };
    auto in_block = [&](Expr row, int block) { return clamp(row - block * H, 0, H - 1); };
    if (cell == Cell::rnn) {
      state(j, n) = Halide::tanh(x(j, n) + pre(j, n));
    } else if (cell == Cell::lstm) {
      Func act("act");
      act(g, n) = select(g >= 2 * H && g < 3 * H, Halide::tanh(x(g, n) + pre(g, n)),
                         sigmoid(x(g, n) + pre(g, n)));
      Func c("c");
      Expr i = act(j, n), f = act(j + H, n), gg = act(j + 2 * H, n);
      c(j, n) = f * prev(j + H, clamp(n, n0, n1)) + i * gg;
      Expr row_h = in_block(j, 0), row_c = in_block(j, 1);
      state(j, n) = select(j < H, act(row_h + 3 * H, n) * Halide::tanh(c(row_h, n)),
                           j < 2 * H, c(row_c, n),
                           act(at(j - 2 * H), n));
      act.compute_root().vectorize(g, natural_vector_size<float>(), TailStrategy::GuardWithIf);
      c.compute_root().vectorize(j, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    } else {
      Func gate("gate");  // r and z
      gate(g, n) = sigmoid(x(g, n) + pre(g, n));
      Func hn("hn"), nn("nn");
      hn(j, n) = pre(j + 2 * H, n);
      nn(j, n) = Halide::tanh(x(j + 2 * H, n) + gate(j, n) * hn(j, n));
      Expr row = in_block(j, 0);
      Expr z = gate(row + H, n);
      state(j, n) = select(j < H, (1.0f - z) * nn(row, n) + z * h_prev(row, n),
                           j < 3 * H, gate(at(j - H), n),
                           j < 4 * H, nn(in_block(j, 3), n),
                           hn(in_block(j, 4), n));
      nn.compute_root().vectorize(j, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    }
    schedule_product(pre, acc, k, get_target());
    state.vectorize(j, natural_vector_size<float>(), TailStrategy::GuardWithIf);
  }
};

class StepBackward : public Generator<StepBackward> {
 public:
  GeneratorParam<int> cell_kind{"cell", 0};
  Input<Buffer<float>> w_kg{"w_kg", 2};
  Input<Buffer<float>> state{"state", 2};
  Input<Buffer<float>> prev{"prev", 2};
  Input<Buffer<float>> d_h{"d_h", 2};
  Input<Buffer<float>> carry{"carry", 2};
  Output<Buffer<float>> d_gates{"d_gates", 2};
  Output<Buffer<float>> carry_out{"carry_out", 2};

  void generate() {
    const Cell cell = Cell(int(cell_kind));
    Var g("g"), n("n"), j("j");
    Expr H = w_kg.dim(0).extent(), GH = w_kg.dim(1).extent();
    Expr n0 = state.dim(1).min(), n1 = state.dim(1).max();
    auto cl = [&](Expr v) { return clamp(v, n0, n1); };
    // Row `row` of block `block` (H rows each) of the state at this step and the one before.
    auto s = [&](int block, Expr row) { return state(clamp(row, 0, H - 1) + block * H, cl(n)); };
    auto p = [&](int block, Expr row) { return prev(clamp(row, 0, H - 1) + block * H, cl(n)); };
    Func dh("dh");  // the whole gradient at h: from above and from the step after
    dh(j, n) = d_h(clamp(j, 0, H - 1), cl(n)) + carry(clamp(j, 0, H - 1), cl(n));
    auto row_in = [&](Expr row, int block) { return clamp(row - block * H, 0, H - 1); };
    Func dside("d_hidden_side");  // what W_hh^T multiplies
    Func direct("d_h_prev_direct");  // d h_prev other than through W_hh
    direct(j, n) = 0.0f;
    Expr carry_c = 0.0f;  // the second block of carry_out
    if (cell == Cell::rnn) {
      Expr h = s(0, g);
      d_gates(g, n) = dh(g, n) * (1.0f - h * h);
      dside(g, n) = d_gates(clamp(g, 0, GH - 1), cl(n));
    } else if (cell == Cell::lstm) {
      // rows of state: h 0, c 1, i 2, f 3, g 4, o 5; of prev: c_prev 1.
      Func dc("dc");  // d loss / d c at this step
      Expr o = s(5, j), tc = Halide::tanh(s(1, j));
      dc(j, n) = carry(clamp(j, 0, H - 1) + H, cl(n)) + dh(j, n) * o * (1.0f - tc * tc);
      auto di_pre = [&](Expr r) { Expr i = s(2, r); return dc(r, n) * s(4, r) * i * (1.0f - i); };
      auto df_pre = [&](Expr r) { Expr f = s(3, r); return dc(r, n) * p(1, r) * f * (1.0f - f); };
      auto dg_pre = [&](Expr r) { Expr gg = s(4, r); return dc(r, n) * s(2, r) * (1.0f - gg * gg); };
      auto do_pre = [&](Expr r) {
        Expr og = s(5, r);
        return dh(r, n) * Halide::tanh(s(1, r)) * og * (1.0f - og);
      };
      d_gates(g, n) = select(g < H, di_pre(row_in(g, 0)), g < 2 * H, df_pre(row_in(g, 1)),
                             g < 3 * H, dg_pre(row_in(g, 2)), do_pre(row_in(g, 3)));
      dside(g, n) = d_gates(clamp(g, 0, GH - 1), cl(n));
      carry_c = dc(row_in(j, 1), n) * s(3, row_in(j, 1));
      dc.compute_root().vectorize(j, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    } else {
      // rows of state: h 0, r 1, z 2, n 3, hn 4; of prev: h_prev 0.
      Func dn_pre("dn_pre");
      Expr z = s(2, j), nv = s(3, j);
      dn_pre(j, n) = dh(j, n) * (1.0f - z) * (1.0f - nv * nv);
      auto dr_pre = [&](Expr row) { Expr r = s(1, row); return dn_pre(row, n) * s(4, row) * r * (1.0f - r); };
      auto dz_pre = [&](Expr row) { Expr zz = s(2, row); return dh(row, n) * (p(0, row) - s(3, row)) * zz * (1.0f - zz); };
      // input side r, z, n; hidden side r, z, hn
      d_gates(g, n) = select(g < H, dr_pre(row_in(g, 0)),
                             g < 2 * H, dz_pre(row_in(g, 1)),
                             g < 3 * H, dn_pre(row_in(g, 2), n),
                             g < 4 * H, dr_pre(row_in(g, 3)),
                             g < 5 * H, dz_pre(row_in(g, 4)),
                             dn_pre(row_in(g, 5), n) * s(1, row_in(g, 5)));
      dside(g, n) = d_gates(clamp(g, 0, GH - 1) + GH, cl(n));
      direct(j, n) = dh(j, n) * s(2, j);
      dn_pre.compute_root().vectorize(j, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    }
    RDom k(0, GH, "k");
    Func acc("acc"), back("back");
    acc(j, n) = direct(j, n);
    acc(j, n) += w_kg(clamp(j, 0, H - 1), k) * dside(k, n);
    back(j, n) = acc(j, n);  // d h_prev
    carry_out(j, n) = select(j < H, back(clamp(j, 0, H - 1), n), carry_c);
    dh.compute_root().vectorize(j, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    d_gates.compute_root().vectorize(g, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    dside.compute_root().vectorize(g, natural_vector_size<float>(), TailStrategy::GuardWithIf);
    schedule_product(back, acc, k, get_target());
    carry_out.vectorize(j, natural_vector_size<float>(), TailStrategy::GuardWithIf);
  }
};

}  // namespace
}  // namespace kiln::gen::cells

HALIDE_REGISTER_GENERATOR(kiln::gen::cells::StepForward, kiln_step_forward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::StepBackward, kiln_step_backward)
