// The extern stages that run a recurrent layer's time loop (generators/ops/recurrent.cpp
// calls them from every generated entry of a model with rnn, lstm or gru): step after
// step they call the AOT step pipelines of cells.cpp, forward from step 0, backward from
// the last step. Buffers are Halide's, with dims (row, n, t); layouts in cells.hpp.
#include "generators/cells/cells.hpp"

#include "kiln_attend_backward.h"
#include "kiln_attend_forward.h"
#include "kiln_gru_backward.h"
#include "kiln_gru_forward.h"
#include "kiln_lstm_backward.h"
#include "kiln_lstm_forward.h"
#include "kiln_rnn_backward.h"
#include "kiln_rnn_forward.h"
#include "kiln_step_product.h"
#include "kiln_step_product_serial.h"

#include <HalideBuffer.h>
#include <HalideRuntime.h>

#include <algorithm>
#include <thread>
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

// The requested samples cut into parts that each run the whole time loop on a thread of
// their own, with the serial step product: a step's product and gates are too small to
// share between threads, and sharing them woke the thread pool twice a step (on the LSTM
// bench, 20 % of the loops' time went to the pool's locks). Parts hold whole tiles of 8
// samples (the product's), at most one part per core. loop(first, count, serial).
template <class Loop>
int over_sample_parts(int n0, int N, Loop& loop) {
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  const int parts = std::clamp(N / 8, 1, cores);
  if (parts == 1) return loop(n0, N, false);
  struct Closure {
    Loop* loop;
    int n0, N, parts;
    int boundary(int part) const { return part == parts ? N : std::min(N, (N * part / parts + 7) / 8 * 8); }
  };
  Closure c{&loop, n0, N, parts};
  auto task = [](void*, int part, uint8_t* closure) -> int {
    const Closure& c = *reinterpret_cast<const Closure*>(closure);
    const int first = c.boundary(part), last = c.boundary(part + 1);
    return last > first ? (*c.loop)(c.n0 + first, last - first, true) : 0;
  };
  return halide_do_par_for(nullptr, task, 0, parts, reinterpret_cast<uint8_t*>(&c));
}

// (Buffers by value: handles that share their memory.)
int step_product(bool serial, Buffer<float> a, Buffer<float> b, Buffer<float> c, Buffer<float> out) {
  return serial ? kiln_step_product_serial(a, b, c, out) : kiln_step_product(a, b, c, out);
}

}  // namespace

// states(j, n, t) for the requested n and every t of T + 1 (cells.hpp), from xproj(g, n, t)
// (T steps), w_gk(g, k), b_hh(g) and initial(j, n), the state before the first step.
extern "C" int kiln_recurrent_forward(int cell_kind, halide_buffer_t* xproj, halide_buffer_t* w_gk,
                                      halide_buffer_t* b_hh, halide_buffer_t* initial, halide_buffer_t* states) {
  const Cell cell = Cell(cell_kind);
  const int S = dim(states, 0).extent, H = S / kiln::gen::cells::state_rows(cell, 1);
  const int GH = kiln::gen::cells::gates(cell) * H, I = kiln::gen::cells::initial_rows(cell, H);
  const int n0 = dim(states, 1).min, N = dim(states, 1).extent;
  const int t0 = dim(states, 2).min, T = dim(states, 2).extent - 1;
  if (t0 != 0) return whole_sequences_only();
  if (xproj->is_bounds_query() || w_gk->is_bounds_query() || b_hh->is_bounds_query() || initial->is_bounds_query()) {
    require(xproj, {{0, GH}, {n0, N}, {0, T}});
    require(w_gk, {{0, GH}, {0, H}});
    require(b_hh, {{0, GH}});
    require(initial, {{0, I}, {n0, N}});
    return 0;
  }
  Buffer<float> x_all(*xproj), out_all(*states), w(*w_gk), b(*b_hh), init_all(*initial);
  auto loop = [&](int first, int count, bool serial) {
    Buffer<float> x = x_all.cropped(1, first, count), out = out_all.cropped(1, first, count);
    Buffer<float> no_addend = zeros(GH, out.raw_buffer()), p = zeros(GH, out.raw_buffer());
    Buffer<float> start = out.sliced(2, 0);
    start.fill(0.0f);
    rows(start, 0, I).copy_from(init_all.cropped(1, first, count));
    for (int t = 1; t <= T; ++t) {
      Buffer<float> now = out.sliced(2, t), prev = out.sliced(2, t - 1), xt = x.sliced(2, t - 1);
      if (int rc = step_product(serial, w, rows(prev, 0, H), no_addend, p)) return rc;
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
  };
  return over_sample_parts(n0, N, loop);
}

// d_gates(g, n, t) for the requested n and every t, from states(j, n, t) (T + 1 steps),
// d_h(j, n, t) (d loss / d h from the layers above) and w_kg(k, g). Nothing flows into
// the initial state: a window's start is a given (truncated backpropagation).
extern "C" int kiln_recurrent_backward(int cell_kind, halide_buffer_t* states, halide_buffer_t* d_h,
                                       halide_buffer_t* w_kg, halide_buffer_t* d_gates) {
  const Cell cell = Cell(cell_kind);
  const int D = dim(d_gates, 0).extent, H = D / kiln::gen::cells::gradient_rows(cell, 1);
  const int GH = kiln::gen::cells::gates(cell) * H, S = kiln::gen::cells::state_rows(cell, H);
  const int n0 = dim(d_gates, 1).min, N = dim(d_gates, 1).extent;
  const int t0 = dim(d_gates, 2).min, T = dim(d_gates, 2).extent;
  if (t0 != 0) return whole_sequences_only();
  if (states->is_bounds_query() || d_h->is_bounds_query() || w_kg->is_bounds_query()) {
    require(states, {{0, S}, {n0, N}, {0, T + 1}});
    require(d_h, {{0, H}, {n0, N}, {0, T}});
    require(w_kg, {{0, H}, {0, GH}});
    return 0;
  }
  Buffer<float> st_all(*states), dh_all(*d_h), w(*w_kg), out_all(*d_gates);
  const int carry = kiln::gen::cells::carry_rows(H);
  auto loop = [&](int first, int count, bool serial) {
    Buffer<float> st = st_all.cropped(1, first, count), dh = dh_all.cropped(1, first, count);
    Buffer<float> out = out_all.cropped(1, first, count);
    const halide_buffer_t* like = out.raw_buffer();
    Buffer<float> no_addend = zeros(H, like), direct = zeros(H, like);
    Buffer<float> carry_in = zeros(carry, like), carry_out = zeros(carry, like);
    for (int t = T - 1; t >= 0; --t) {
      Buffer<float> now = st.sliced(2, t + 1), prev = st.sliced(2, t);
      Buffer<float> dht = dh.sliced(2, t), g = out.sliced(2, t);
      Buffer<float> carry_h = rows(carry_in, 0, H), next_h = rows(carry_out, 0, H);
      int rc = 0;
      switch (cell) {
        case Cell::rnn:
          rc = kiln_rnn_backward(rows(now, 0, H), dht, carry_h, g);
          if (!rc) rc = step_product(serial, w, g, no_addend, next_h);
          break;
        case Cell::lstm:
          rc = kiln_lstm_backward(rows(now, H, H), rows(now, 2 * H, 4 * H), rows(prev, H, H), dht, carry_h,
                                  rows(carry_in, H, H), rows(g, 0, H), rows(g, H, H), rows(g, 2 * H, H),
                                  rows(g, 3 * H, H), rows(carry_out, H, H));
          if (!rc) rc = step_product(serial, w, g, no_addend, next_h);
          break;
        case Cell::gru:
          rc = kiln_gru_backward(rows(prev, 0, H), rows(now, H, 2 * H), rows(now, 3 * H, H), rows(now, 4 * H, H),
                                 dht, carry_h, rows(g, 0, H), rows(g, H, H), rows(g, 2 * H, H),
                                 rows(g, 3 * H, H), rows(g, 4 * H, H), rows(g, 5 * H, H), direct);
          if (!rc) rc = step_product(serial, w, rows(g, GH, GH), direct, next_h);
          break;
      }
      if (rc) return rc;
      std::swap(carry_in, carry_out);
    }
    return 0;
  };
  return over_sample_parts(n0, N, loop);
}

// attention_lstm (generators/ops/attention.cpp; rows in cells.hpp): states(j, n, t) for the
// requested n and every t, from xproj(g, n, t) (4H), w_gk(g, j) ([w_hh | w_ih's context
// columns], gate rows innermost), keys_t(l, k, n) and the grid(c, l, n).
// H, C, L: the hidden size, the grid's channels and locations (an input's extents are
// not known in a bounds query).
extern "C" int kiln_attention_forward(int H, int C, int L, halide_buffer_t* xproj, halide_buffer_t* w_gk,
                                      halide_buffer_t* keys_t, halide_buffer_t* grid, halide_buffer_t* states) {
  const int S = kiln::gen::cells::attention_state_rows(H, C, L), GH = 4 * H;
  const int n0 = dim(states, 1).min, N = dim(states, 1).extent;
  const int t0 = dim(states, 2).min, T = dim(states, 2).extent;
  if (t0 != 0) return whole_sequences_only();
  if (xproj->is_bounds_query() || w_gk->is_bounds_query() || keys_t->is_bounds_query() || grid->is_bounds_query()) {
    require(xproj, {{0, GH}, {n0, N}, {t0, T}});
    require(w_gk, {{0, GH}, {0, H + C}});
    require(keys_t, {{0, L}, {0, H}, {n0, N}});
    require(grid, {{0, C}, {0, L}, {n0, N}});
    return 0;
  }
  const int z_row = kiln::gen::cells::attention_context_row(H), alpha_row = z_row + C;
  Buffer<float> x_all(*xproj), out_all(*states), w(*w_gk), keys_all(*keys_t), grid_all(*grid);
  auto loop = [&](int first, int count, bool serial) {
    Buffer<float> x = x_all.cropped(1, first, count), out = out_all.cropped(1, first, count);
    Buffer<float> keys = keys_all.cropped(2, first, count), a = grid_all.cropped(2, first, count);
    const halide_buffer_t* like = out.raw_buffer();
    Buffer<float> before = zeros(S, like), no_addend = zeros(GH, like), p = zeros(GH, like);
    Buffer<float> hz = zeros(H + C, like);  // the product's [h_{t-1}; z_t]
    for (int t = t0; t < t0 + T; ++t) {
      Buffer<float> now = out.sliced(2, t), xt = x.sliced(2, t);
      Buffer<float> prev = t == t0 ? before : out.sliced(2, t - 1);
      Buffer<float> h_prev = rows(prev, 0, H), z = rows(now, z_row, C), alpha = rows(now, alpha_row, L);
      if (int rc = kiln_attend_forward(h_prev, keys, a, alpha, z)) return rc;
      Buffer<float> hz_h = rows(hz, 0, H), hz_z = rows(hz, H, C);
      hz_h.copy_from(h_prev);
      hz_z.copy_from(z);
      if (int rc = step_product(serial, w, hz, no_addend, p)) return rc;
      if (int rc = kiln_lstm_forward(xt, p, rows(prev, H, H), rows(now, 0, H), rows(now, H, H), rows(now, 2 * H, 4 * H)))
        return rc;
    }
    return 0;
  };
  return over_sample_parts(n0, N, loop);
}

// d_all(g, n, t) for the requested n and every t (rows: d_gates, d_z, d_e), from
// states(j, n, t), d_hz(j, n, t) (d loss / d [h; z] from the layers above), w_kg(j, g),
// keys(k, l, n) and grid_t(l, c, n).
extern "C" int kiln_attention_backward(int H, int C, int L, halide_buffer_t* states, halide_buffer_t* d_hz,
                                       halide_buffer_t* w_kg, halide_buffer_t* keys, halide_buffer_t* grid_t,
                                       halide_buffer_t* d_all) {
  const int HC = H + C, GH = 4 * H, S = kiln::gen::cells::attention_state_rows(H, C, L);
  const int n0 = dim(d_all, 1).min, N = dim(d_all, 1).extent;
  const int t0 = dim(d_all, 2).min, T = dim(d_all, 2).extent;
  if (t0 != 0) return whole_sequences_only();
  if (states->is_bounds_query() || d_hz->is_bounds_query() || w_kg->is_bounds_query() ||
      keys->is_bounds_query() || grid_t->is_bounds_query()) {
    require(states, {{0, S}, {n0, N}, {t0, T}});
    require(d_hz, {{0, HC}, {n0, N}, {t0, T}});
    require(w_kg, {{0, HC}, {0, GH}});
    require(keys, {{0, H}, {0, L}, {n0, N}});
    require(grid_t, {{0, L}, {0, C}, {n0, N}});
    return 0;
  }
  const int alpha_row = kiln::gen::cells::attention_context_row(H) + C;
  Buffer<float> st_all(*states), dhz_all(*d_hz), w(*w_kg), keys_all(*keys), grid_all(*grid_t), out_all(*d_all);
  const int carry = kiln::gen::cells::carry_rows(H);
  auto loop = [&](int first, int count, bool serial) {
    Buffer<float> st = st_all.cropped(1, first, count), dhz = dhz_all.cropped(1, first, count);
    Buffer<float> out = out_all.cropped(1, first, count);
    Buffer<float> k = keys_all.cropped(2, first, count), a = grid_all.cropped(2, first, count);
    const halide_buffer_t* like = out.raw_buffer();
    Buffer<float> before = zeros(S, like), addend = zeros(HC, like), hz_grad = zeros(HC, like);
    Buffer<float> carry_in = zeros(carry, like), carry_out = zeros(carry, like);
    for (int t = t0 + T - 1; t >= t0; --t) {
      Buffer<float> now = st.sliced(2, t), prev = t == t0 ? before : st.sliced(2, t - 1);
      Buffer<float> dt = dhz.sliced(2, t), g = out.sliced(2, t);
      if (int rc = kiln_lstm_backward(rows(now, H, H), rows(now, 2 * H, 4 * H), rows(prev, H, H), rows(dt, 0, H),
                                      rows(carry_in, 0, H), rows(carry_in, H, H), rows(g, 0, H), rows(g, H, H),
                                      rows(g, 2 * H, H), rows(g, 3 * H, H), rows(carry_out, H, H)))
        return rc;
      // d [h_{t-1}; z_t] = [0; d_zo] + the product's transpose times d_gates.
      Buffer<float> addend_z = rows(addend, H, C);
      addend_z.copy_from(rows(dt, H, C));
      if (int rc = step_product(serial, w, rows(g, 0, GH), addend, hz_grad)) return rc;
      Buffer<float> d_z = rows(hz_grad, H, C), g_z = rows(g, GH, C);
      g_z.copy_from(d_z);
      if (int rc = kiln_attend_backward(d_z, rows(now, alpha_row, L), a, k, rows(hz_grad, 0, H),
                                        rows(g, GH + C, L), rows(carry_out, 0, H)))
        return rc;
      std::swap(carry_in, carry_out);
    }
    return 0;
  };
  return over_sample_parts(n0, N, loop);
}
