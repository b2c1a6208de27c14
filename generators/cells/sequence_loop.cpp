// The extern stages that run a recurrent layer's time loop (generators/ops/recurrent.cpp
// calls them from every generated entry of a model with rnn, lstm or gru): step after
// step they call the AOT step pipelines of cells.cpp, forward from step 0, backward from
// the last step. Buffers are Halide's, with dims (row, n, t); layouts in cells.hpp.
#include "generators/cells/cells.hpp"

#include "kiln_gru_backward.h"
#include "kiln_gru_forward.h"
#include "kiln_lstm_backward.h"
#include "kiln_lstm_forward.h"
#include "kiln_rnn_backward.h"
#include "kiln_rnn_forward.h"
#include "kiln_step_product.h"

#include <HalideBuffer.h>

#include <utility>

namespace {
using kiln::gen::cells::Cell;
using Halide::Runtime::Buffer;

// A bounds query asks which region of each input an output region needs.
void require(halide_buffer_t* b, std::initializer_list<std::pair<int, int>> ranges) {
  int d = 0;
  for (auto [min, extent] : ranges) {
    b->dim[d].min = min;
    b->dim[d].extent = extent;
    ++d;
  }
}
const halide_dimension_t& dim(const halide_buffer_t* b, int d) { return b->dim[d]; }

// `rows` rows (dim 0) for the samples of `like`, zero-filled: the state before step 0,
// the carry after the last step, the product's zero addend.
Buffer<float> zeros(int rows, const halide_buffer_t* like) {
  Buffer<float> z(rows, dim(like, 1).extent);
  z.set_min(0, dim(like, 1).min);
  z.fill(0.0f);
  return z;
}

// Rows [first, first + count) of a step's buffer, as a buffer of their own whose rows
// start at 0: what a step pipeline reads or writes.
Buffer<float> rows(const Buffer<float>& b, int first, int count) {
  Buffer<float> r = b.cropped(0, first, count);
  r.translate(0, -first);
  return r;
}

// The lowering bounds these stages to every step (recurrent.cpp): a region that starts
// later would need the steps before it.
int whole_sequences_only() {
  halide_error(nullptr, "kiln: a recurrent layer's time loop was asked for a region not starting at step 0\n");
  return -1;
}

}  // namespace

// states(j, n, t) for the requested n and every t, from xproj(g, n, t), w_gk(g, k), b_hh(g).
extern "C" int kiln_recurrent_forward(int cell_kind, halide_buffer_t* xproj, halide_buffer_t* w_gk,
                                      halide_buffer_t* b_hh, halide_buffer_t* states) {
  const Cell cell = Cell(cell_kind);
  const int S = dim(states, 0).extent, H = S / kiln::gen::cells::state_rows(cell, 1);
  const int GH = kiln::gen::cells::gates(cell) * H;
  const int n0 = dim(states, 1).min, N = dim(states, 1).extent;
  const int t0 = dim(states, 2).min, T = dim(states, 2).extent;
  if (t0 != 0) return whole_sequences_only();
  if (xproj->is_bounds_query() || w_gk->is_bounds_query() || b_hh->is_bounds_query()) {
    require(xproj, {{0, GH}, {n0, N}, {t0, T}});
    require(w_gk, {{0, GH}, {0, H}});
    require(b_hh, {{0, GH}});
    return 0;
  }
  Buffer<float> x(*xproj), out(*states), w(*w_gk), b(*b_hh);
  Buffer<float> before = zeros(S, states), no_addend = zeros(GH, states), p = zeros(GH, states);
  for (int t = t0; t < t0 + T; ++t) {
    Buffer<float> now = out.sliced(2, t), xt = x.sliced(2, t);
    Buffer<float> prev = t == t0 ? before : out.sliced(2, t - 1);
    if (int rc = kiln_step_product(w, rows(prev, 0, H), no_addend, p)) return rc;
    int rc = 0;
    switch (cell) {
      case Cell::rnn: rc = kiln_rnn_forward(xt, p, now); break;
      case Cell::lstm:
        rc = kiln_lstm_forward(xt, p, rows(prev, H, H), rows(now, 0, H), rows(now, H, H), rows(now, 2 * H, 4 * H));
        break;
      case Cell::gru:
        rc = kiln_gru_forward(xt, p, b, rows(prev, 0, H), rows(now, 0, H), rows(now, H, 2 * H),
                              rows(now, 3 * H, H), rows(now, 4 * H, H));
        break;
    }
    if (rc) return rc;
  }
  return 0;
}

// d_gates(g, n, t) for the requested n and every t, from states(j, n, t), d_h(j, n, t)
// (d loss / d h from the layers above) and w_kg(k, g).
extern "C" int kiln_recurrent_backward(int cell_kind, halide_buffer_t* states, halide_buffer_t* d_h,
                                       halide_buffer_t* w_kg, halide_buffer_t* d_gates) {
  const Cell cell = Cell(cell_kind);
  const int D = dim(d_gates, 0).extent, H = D / kiln::gen::cells::gradient_rows(cell, 1);
  const int GH = kiln::gen::cells::gates(cell) * H, S = kiln::gen::cells::state_rows(cell, H);
  const int n0 = dim(d_gates, 1).min, N = dim(d_gates, 1).extent;
  const int t0 = dim(d_gates, 2).min, T = dim(d_gates, 2).extent;
  if (t0 != 0) return whole_sequences_only();
  if (states->is_bounds_query() || d_h->is_bounds_query() || w_kg->is_bounds_query()) {
    require(states, {{0, S}, {n0, N}, {t0, T}});
    require(d_h, {{0, H}, {n0, N}, {t0, T}});
    require(w_kg, {{0, H}, {0, GH}});
    return 0;
  }
  Buffer<float> st(*states), dh(*d_h), w(*w_kg), out(*d_gates);
  const int carry = kiln::gen::cells::carry_rows(H);
  Buffer<float> before = zeros(S, d_gates), no_addend = zeros(H, d_gates), direct = zeros(H, d_gates);
  Buffer<float> carry_in = zeros(carry, d_gates), carry_out = zeros(carry, d_gates);
  for (int t = t0 + T - 1; t >= t0; --t) {
    Buffer<float> now = st.sliced(2, t), prev = t == t0 ? before : st.sliced(2, t - 1);
    Buffer<float> dht = dh.sliced(2, t), g = out.sliced(2, t);
    Buffer<float> carry_h = rows(carry_in, 0, H), next_h = rows(carry_out, 0, H);
    int rc = 0;
    switch (cell) {
      case Cell::rnn:
        rc = kiln_rnn_backward(rows(now, 0, H), dht, carry_h, g);
        if (!rc) rc = kiln_step_product(w, g, no_addend, next_h);
        break;
      case Cell::lstm:
        rc = kiln_lstm_backward(rows(now, H, H), rows(now, 2 * H, 4 * H), rows(prev, H, H), dht, carry_h,
                                rows(carry_in, H, H), rows(g, 0, H), rows(g, H, H), rows(g, 2 * H, H),
                                rows(g, 3 * H, H), rows(carry_out, H, H));
        if (!rc) rc = kiln_step_product(w, g, no_addend, next_h);
        break;
      case Cell::gru:
        rc = kiln_gru_backward(rows(prev, 0, H), rows(now, H, 2 * H), rows(now, 3 * H, H), rows(now, 4 * H, H),
                               dht, carry_h, rows(g, 0, H), rows(g, H, H), rows(g, 2 * H, H),
                               rows(g, 3 * H, H), rows(g, 4 * H, H), rows(g, 5 * H, H), direct);
        if (!rc) rc = kiln_step_product(w, rows(g, GH, GH), direct, next_h);
        break;
    }
    if (rc) return rc;
    std::swap(carry_in, carry_out);
  }
  return 0;
}
