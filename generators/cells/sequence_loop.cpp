// The extern stages that run a recurrent layer's time loop (generators/ops/recurrent.cpp
// calls them from every generated entry of a model with rnn, lstm or gru): each calls
// the cell's AOT step pipeline (cells.cpp) once per step, forward from step 0, backward
// from the last step. Buffers are Halide's, with dims (row, n, t); layouts in cells.hpp.
#include "generators/cells/cells.hpp"

#include "kiln_gru_step_backward.h"
#include "kiln_gru_step_forward.h"
#include "kiln_lstm_step_backward.h"
#include "kiln_lstm_step_forward.h"
#include "kiln_rnn_step_backward.h"
#include "kiln_rnn_step_forward.h"

#include <HalideBuffer.h>

#include <utility>

namespace {
using kiln::gen::cells::Cell;
using Halide::Runtime::Buffer;

using Forward = int (*)(halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*,
                        halide_buffer_t*);
using Backward = int (*)(halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*,
                         halide_buffer_t*, halide_buffer_t*, halide_buffer_t*);

Forward forward_step(Cell c) {
  switch (c) {
    case Cell::lstm: return kiln_lstm_step_forward;
    case Cell::gru: return kiln_gru_step_forward;
    default: return kiln_rnn_step_forward;
  }
}
Backward backward_step(Cell c) {
  switch (c) {
    case Cell::lstm: return kiln_lstm_step_backward;
    case Cell::gru: return kiln_gru_step_backward;
    default: return kiln_rnn_step_backward;
  }
}

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

// Rows (dim 0) of a state-like buffer for samples and steps of `like`, zero-filled:
// the state before step 0, the carry after the last step.
Buffer<float> zeros(int rows, const halide_buffer_t* like) {
  Buffer<float> z(rows, dim(like, 1).extent);
  z.set_min(0, dim(like, 1).min);
  z.fill(0.0f);
  return z;
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
  Buffer<float> before = zeros(S, states);
  const Forward step = forward_step(cell);
  for (int t = t0; t < t0 + T; ++t) {
    Buffer<float> now = out.sliced(2, t), xt = x.sliced(2, t);
    Buffer<float> prev = t == t0 ? before : out.sliced(2, t - 1);
    if (int rc = step(w.raw_buffer(), b.raw_buffer(), xt.raw_buffer(), prev.raw_buffer(), now.raw_buffer()))
      return rc;
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
  Buffer<float> before = zeros(S, d_gates);
  Buffer<float> carry = zeros(kiln::gen::cells::carry_rows(H), d_gates);
  Buffer<float> carry_next = zeros(kiln::gen::cells::carry_rows(H), d_gates);
  const Backward step = backward_step(cell);
  for (int t = t0 + T - 1; t >= t0; --t) {
    Buffer<float> now = st.sliced(2, t), prev = t == t0 ? before : st.sliced(2, t - 1);
    Buffer<float> dht = dh.sliced(2, t), gates = out.sliced(2, t);
    if (int rc = step(w.raw_buffer(), now.raw_buffer(), prev.raw_buffer(), dht.raw_buffer(),
                      carry.raw_buffer(), gates.raw_buffer(), carry_next.raw_buffer()))
      return rc;
    std::swap(carry, carry_next);
  }
  return 0;
}
