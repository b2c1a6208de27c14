// The per-step pipelines of the recurrent cells (layouts in cells.hpp), as Halide
// generators built once per CPU target for any hidden size and batch. A step is a
// matrix product and an elementwise pipeline of the cell's equations; the time loop
// (sequence_loop.cpp) hands each the rows of a step's state it reads and writes, as
// buffers of their own (crops), so that every pipeline here reads and writes exactly
// its buffers' extents: no clamped index, which would cost a gather per element.
//
//   kiln_step_product(a, b, c) -> out:   out(r, n) = c(r, n) + sum_k a(r, k) b(k, n)
//     forward: W_hh h_prev (a = w_gk, gate rows innermost); backward: W_hh^T d (a = w_kg);
//     kiln_step_product_serial: the same on the calling thread
// The equations are PyTorch's (nn.RNN with tanh, nn.LSTM, nn.GRU), with p = W_hh h_prev
// and x = W_ih x_t + b_ih (+ b_hh but for gru):
//   rnn   h = tanh(x + p)
//   lstm  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of x + p;  c = f c_prev + i g;
//         h = o tanh(c)
//   gru   hn = p_n + b_hn;  r, z = sigmoid(x_{r,z} + p_{r,z} + b_h{r,z});
//         n = tanh(x_n + r hn);  h = (1 - z) n + z h_prev
// and their adjoints, with dh = d_h (from above) + carry_h (from the step after):
//   rnn   d_pre = dh (1 - h^2)
//   lstm  dc = carry_c + dh o (1 - tanh(c)^2); d_i = dc g i (1 - i); d_f = dc c_prev f (1 - f);
//         d_g = dc i (1 - g^2); d_o = dh tanh(c) o (1 - o); dc_prev = dc f
//   gru   d_n = dh (1 - z) (1 - n^2); d_r = d_n hn r (1 - r); d_z = dh (h_prev - n) z (1 - z);
//         d_hn = d_n r; direct = dh z (d h_prev other than through W_hh)
// after which d h_prev = direct + W_hh^T (the hidden side's gradients), a product.
#include "generators/cells/cells.hpp"

#include "generators/halide_math.hpp"

#include <Halide.h>

namespace kiln::gen::cells {
namespace {
using namespace Halide;

Expr sigmoid(Expr v) { return 1.0f / (1.0f + exp(-v)); }

// Every Func of an elementwise step: vectors of rows, on one thread. A step's elementwise
// part is tens of thousands of values; waking the thread pool for each of its loops cost
// more than the loops (measured: a third of the LSTM's time loop in the pool's locks).
template <class F>
void rows_in_vectors(F& out, int lanes) {
  out.vectorize(out.args()[0], lanes, TailStrategy::GuardWithIf);
}

class StepProduct : public Generator<StepProduct> {
 public:
  // false: the whole product on the calling thread (kiln_step_product_serial, for time
  // loops that run parts of the batch on threads of their own: sequence_loop.cpp).
  GeneratorParam<bool> parallel{"parallel", true};
  Input<Buffer<float>> a{"a", 2};  // (r, k)
  Input<Buffer<float>> b{"b", 2};  // (k, n)
  Input<Buffer<float>> c{"c", 2};  // (r, n)
  Output<Buffer<float>> out{"out", 2};

  void generate() {
    Var r("r"), n("n"), ro("ro"), ri("ri"), no("no"), ni("ni"), rv("rv"), ru("ru");
    Expr R = a.dim(0).extent(), K = a.dim(1).extent();
    Expr n0 = c.dim(1).min(), n1 = c.dim(1).max();
    // The tiles round the rows and samples up: reads beyond them are clamped (in the
    // product's inner loop they stay contiguous: whole rows of a, one value of b).
    Func a_in("a_in"), b_in("b_in"), acc("acc");
    a_in(r, k_) = a(min(r, R - 1), k_);
    b_in(k_, n) = b(k_, clamp(n, n0, n1));
    RDom k(0, K, "k");
    acc(r, n) = c(min(r, R - 1), clamp(n, n0, n1));
    acc(r, n) += a_in(r, k) * b_in(k, n);
    out(r, n) = acc(r, n);

    // A tile of 2 vectors of rows by 8 samples in registers; each thread takes blocks of
    // rows and runs every sample through them, so that a block of a (its rows x K, 32 KB
    // at K = 256) is read from memory once per step and then from L1, not once per
    // group of samples: the weights (1 MB for an LSTM of 256) would not stay in cache.
    const int lanes = natural_vector_size<float>(), rows = 2 * lanes, samples = 8;
    out.split(r, ro, ri, rows, TailStrategy::GuardWithIf)
        .split(n, no, ni, samples, TailStrategy::GuardWithIf)
        .reorder(ri, ni, no, ro)
        .vectorize(ri, lanes, TailStrategy::GuardWithIf);
    if (parallel) out.parallel(ro);
    acc.compute_at(out, no).bound_extent(r, rows).bound_extent(n, samples);
    acc.split(r, ru, rv, lanes).vectorize(rv).unroll(ru).unroll(n);
    acc.update().split(r, ru, rv, lanes).reorder(rv, ru, n, k).vectorize(rv).unroll(ru).unroll(n);
  }

 private:
  Var k_{"k_"};
};

class RnnForward : public Generator<RnnForward> {
 public:
  Input<Buffer<float>> x{"x", 2}, p{"p", 2};
  Output<Buffer<float>> h{"h", 2};
  void generate() {
    Var j("j"), n("n");
    h(j, n) = gen::tanh_vectorized(x(j, n) + p(j, n));
    rows_in_vectors(h, natural_vector_size<float>());
  }
};

class LstmForward : public Generator<LstmForward> {
 public:
  Input<Buffer<float>> x{"x", 2}, p{"p", 2}, c_prev{"c_prev", 2};
  Output<Buffer<float>> h{"h", 2}, c{"c", 2}, act{"act", 2};
  void generate() {
    Var j("j"), g("g"), n("n");
    Expr H = c_prev.dim(0).extent();
    // One exp per gate: tanh(v) = 2 sigmoid(2 v) - 1 for the g gate.
    Expr v = x(g, n) + p(g, n), is_g = g >= 2 * H && g < 3 * H;
    Expr s = sigmoid(select(is_g, 2.0f * v, v));
    act(g, n) = select(is_g, 2.0f * s - 1.0f, s);
    c(j, n) = act(j + H, n) * c_prev(j, n) + act(j, n) * act(j + 2 * H, n);
    h(j, n) = act(j + 3 * H, n) * gen::tanh_vectorized(c(j, n));
    for (Output<Buffer<float>>* o : {&act, &c, &h}) rows_in_vectors(*o, natural_vector_size<float>());
  }
};

class GruForward : public Generator<GruForward> {
 public:
  Input<Buffer<float>> x{"x", 2}, p{"p", 2}, b_hh{"b_hh", 1}, h_prev{"h_prev", 2};
  Output<Buffer<float>> h{"h", 2}, rz{"rz", 2}, nn{"nn", 2}, hn{"hn", 2};
  void generate() {
    Var j("j"), g("g"), n("n");
    Expr H = h_prev.dim(0).extent();
    rz(g, n) = sigmoid(x(g, n) + p(g, n) + b_hh(g));
    hn(j, n) = p(j + 2 * H, n) + b_hh(j + 2 * H);
    nn(j, n) = gen::tanh_vectorized(x(j + 2 * H, n) + rz(j, n) * hn(j, n));
    Expr z = rz(j + H, n);
    h(j, n) = (1.0f - z) * nn(j, n) + z * h_prev(j, n);
    for (Output<Buffer<float>>* o : {&rz, &hn, &nn, &h}) rows_in_vectors(*o, natural_vector_size<float>());
  }
};

class RnnBackward : public Generator<RnnBackward> {
 public:
  Input<Buffer<float>> h{"h", 2}, d_h{"d_h", 2}, carry_h{"carry_h", 2};
  Output<Buffer<float>> d_pre{"d_pre", 2};
  void generate() {
    Var j("j"), n("n");
    d_pre(j, n) = (d_h(j, n) + carry_h(j, n)) * (1.0f - h(j, n) * h(j, n));
    rows_in_vectors(d_pre, natural_vector_size<float>());
  }
};

class LstmBackward : public Generator<LstmBackward> {
 public:
  // c: rows c of the state; act: rows i, f, g, o (4 H); c_prev: rows c of the state before.
  Input<Buffer<float>> c{"c", 2}, act{"act", 2}, c_prev{"c_prev", 2};
  Input<Buffer<float>> d_h{"d_h", 2}, carry_h{"carry_h", 2}, carry_c{"carry_c", 2};
  Output<Buffer<float>> d_i{"d_i", 2}, d_f{"d_f", 2}, d_g{"d_g", 2}, d_o{"d_o", 2};
  Output<Buffer<float>> dc_prev{"dc_prev", 2};
  void generate() {
    Var j("j"), n("n");
    Expr H = c.dim(0).extent();
    Expr i = act(j, n), f = act(j + H, n), g = act(j + 2 * H, n), o = act(j + 3 * H, n);
    Func dh("dh"), tc("tanh_c"), dc("dc");
    dh(j, n) = d_h(j, n) + carry_h(j, n);
    tc(j, n) = gen::tanh_vectorized(c(j, n));
    dc(j, n) = carry_c(j, n) + dh(j, n) * o * (1.0f - tc(j, n) * tc(j, n));
    d_i(j, n) = dc(j, n) * g * i * (1.0f - i);
    d_f(j, n) = dc(j, n) * c_prev(j, n) * f * (1.0f - f);
    d_g(j, n) = dc(j, n) * i * (1.0f - g * g);
    d_o(j, n) = dh(j, n) * tc(j, n) * o * (1.0f - o);
    dc_prev(j, n) = dc(j, n) * f;
    const int lanes = natural_vector_size<float>();
    dc.compute_root();
    rows_in_vectors(dc, lanes);
    for (Output<Buffer<float>>* out : {&d_i, &d_f, &d_g, &d_o, &dc_prev}) rows_in_vectors(*out, lanes);
  }
};

class GruBackward : public Generator<GruBackward> {
 public:
  Input<Buffer<float>> h_prev{"h_prev", 2}, rz{"rz", 2}, nn{"nn", 2}, hn{"hn", 2};
  Input<Buffer<float>> d_h{"d_h", 2}, carry_h{"carry_h", 2};
  // The input side's r, z, n, then the hidden side's r, z, hn; and dh z.
  Output<Buffer<float>> dx_r{"dx_r", 2}, dx_z{"dx_z", 2}, dx_n{"dx_n", 2};
  Output<Buffer<float>> dh_r{"dh_r", 2}, dh_z{"dh_z", 2}, dh_hn{"dh_hn", 2}, direct{"direct", 2};
  void generate() {
    Var j("j"), n("n");
    Expr H = h_prev.dim(0).extent();
    Expr r = rz(j, n), z = rz(j + H, n), nv = nn(j, n);
    Func dh("dh"), d_n("d_n"), d_r("d_r"), d_z("d_z");
    dh(j, n) = d_h(j, n) + carry_h(j, n);
    d_n(j, n) = dh(j, n) * (1.0f - z) * (1.0f - nv * nv);
    d_r(j, n) = d_n(j, n) * hn(j, n) * r * (1.0f - r);
    d_z(j, n) = dh(j, n) * (h_prev(j, n) - nv) * z * (1.0f - z);
    dx_r(j, n) = d_r(j, n);
    dx_z(j, n) = d_z(j, n);
    dx_n(j, n) = d_n(j, n);
    dh_r(j, n) = d_r(j, n);
    dh_z(j, n) = d_z(j, n);
    dh_hn(j, n) = d_n(j, n) * r;
    direct(j, n) = dh(j, n) * z;
    const int lanes = natural_vector_size<float>();
    for (Func f_ : {d_n, d_r, d_z}) {
      f_.compute_root();
      rows_in_vectors(f_, lanes);
    }
    for (Output<Buffer<float>>* out : {&dx_r, &dx_z, &dx_n, &dh_r, &dh_z, &dh_hn, &direct})
      rows_in_vectors(*out, lanes);
  }
};

// attention_lstm's steps (generators/ops/attention.cpp): the scores of every location
// against h_{t-1}, their softmax and the context it weighs; and that step's adjoint.
//   forward   e(l) = sum_k keys(l, k) h(k); alpha = softmax_l(e); z(c) = sum_l a(c, l) alpha(l)
//   backward  d_alpha(l) = sum_c a(l, c) d_z(c); d_e(l) = alpha(l) (d_alpha(l) - sum alpha d_alpha);
//             d_h(k) = direct(k) + sum_l keys(k, l) d_e(l)
// Each takes the grid and keys in the order its sums vectorize over; per sample, on one
// thread (a step is a few thousand values per sample).
class AttendForward : public Generator<AttendForward> {
 public:
  Input<Buffer<float>> h{"h", 2};           // (k, n): h_{t-1}
  Input<Buffer<float>> keys{"keys", 3};     // (l, k, n)
  Input<Buffer<float>> grid{"grid", 3};     // (c, l, n)
  Output<Buffer<float>> alpha{"alpha", 2};  // (l, n)
  Output<Buffer<float>> z{"z", 2};          // (c, n)
  void generate() {
    Var l("l"), c("c"), n("n");
    RDom rk(0, h.dim(0).extent(), "rk"), rl(0, keys.dim(0).extent(), "rl");
    Func e("e"), top("top"), total("total"), ex("ex");
    e(l, n) = 0.0f;
    e(l, n) += keys(l, rk, n) * h(rk, n);
    top(n) = maximum(e(rl, n));
    ex(l, n) = exp(e(l, n) - top(n));
    total(n) = 0.0f;
    total(n) += ex(rl, n);
    alpha(l, n) = ex(l, n) / total(n);
    z(c, n) = 0.0f;
    z(c, n) += grid(c, rl, n) * alpha(rl, n);
    const int lanes = natural_vector_size<float>();
    for (Func f_ : {e, ex}) {
      f_.compute_at(alpha, n).vectorize(l, lanes, TailStrategy::GuardWithIf);
      if (f_.has_update_definition()) f_.update().vectorize(l, lanes, TailStrategy::GuardWithIf);
    }
    top.compute_at(alpha, n);
    total.compute_at(alpha, n);
    rows_in_vectors(alpha, lanes);
    Func zf = z;
    zf.vectorize(c, lanes, TailStrategy::GuardWithIf);
    zf.update().vectorize(c, lanes, TailStrategy::GuardWithIf);
  }
};

class AttendBackward : public Generator<AttendBackward> {
 public:
  Input<Buffer<float>> d_z{"d_z", 2};        // (c, n)
  Input<Buffer<float>> alpha{"alpha", 2};    // (l, n)
  Input<Buffer<float>> grid_t{"grid_t", 3};  // (l, c, n)
  Input<Buffer<float>> keys{"keys", 3};      // (k, l, n)
  Input<Buffer<float>> direct{"direct", 2};  // (k, n): d h_{t-1} through the gates
  Output<Buffer<float>> d_e{"d_e", 2};       // (l, n)
  Output<Buffer<float>> d_h{"d_h", 2};       // (k, n)
  void generate() {
    Var l("l"), k("k"), n("n");
    RDom rc(0, d_z.dim(0).extent(), "rc"), rl(0, alpha.dim(0).extent(), "rl");
    Func d_alpha("d_alpha"), weighted("weighted");
    d_alpha(l, n) = 0.0f;
    d_alpha(l, n) += grid_t(l, rc, n) * d_z(rc, n);
    weighted(n) = 0.0f;
    weighted(n) += alpha(rl, n) * d_alpha(rl, n);
    d_e(l, n) = alpha(l, n) * (d_alpha(l, n) - weighted(n));
    d_h(k, n) = direct(k, n);
    d_h(k, n) += keys(k, rl, n) * d_e(rl, n);
    const int lanes = natural_vector_size<float>();
    d_alpha.compute_root().vectorize(l, lanes, TailStrategy::GuardWithIf);
    d_alpha.update().vectorize(l, lanes, TailStrategy::GuardWithIf);
    weighted.compute_root();
    rows_in_vectors(d_e, lanes);
    Func dh = d_h;
    dh.vectorize(k, lanes, TailStrategy::GuardWithIf);
    dh.update().vectorize(k, lanes, TailStrategy::GuardWithIf);
  }
};

}  // namespace
}  // namespace kiln::gen::cells

HALIDE_REGISTER_GENERATOR(kiln::gen::cells::StepProduct, kiln_step_product)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::RnnForward, kiln_rnn_forward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::LstmForward, kiln_lstm_forward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::GruForward, kiln_gru_forward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::RnnBackward, kiln_rnn_backward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::LstmBackward, kiln_lstm_backward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::GruBackward, kiln_gru_backward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::AttendForward, kiln_attend_forward)
HALIDE_REGISTER_GENERATOR(kiln::gen::cells::AttendBackward, kiln_attend_backward)
