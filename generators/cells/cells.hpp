// The recurrent cells' per-step pipelines and the layout of what they pass between
// steps. Plain C++: included by the lowering (generators/ops/recurrent.cpp), by the
// step generators (cells.cpp) and by the extern stages that loop over time
// (sequence_loop.cpp), which link with no Halide compiler.
//
// A layer of hidden size H keeps, per sample and step, `state_rows` floats:
//   rnn   h                                    (H)
//   lstm  h, c, then the gate activations i, f, g, o     (6 H)
//   gru   h, r, z, n, then hn = W_hn h_prev + b_hn     (5 H)
// and its adjoint yields, per sample and step, `gradient_rows` floats: the gradient at
// the gate pre-activations (rnn H; lstm 4 H: i, f, g, o; gru 6 H: r, z, n on the input
// side, then r, z and hn on the hidden side).
#pragma once
#include "dsl/layers.hpp"

namespace kiln::gen::cells {

enum class Cell : int { rnn = 0, lstm = 1, gru = 2 };

constexpr Cell cell_of(Op op) { return op == Op::lstm ? Cell::lstm : op == Op::gru ? Cell::gru : Cell::rnn; }
constexpr int gates(Cell c) { return c == Cell::lstm ? 4 : c == Cell::gru ? 3 : 1; }
constexpr int state_rows(Cell c, int hidden) {
  return (c == Cell::lstm ? 6 : c == Cell::gru ? 5 : 1) * hidden;
}
constexpr int gradient_rows(Cell c, int hidden) {
  return (c == Cell::lstm ? 4 : c == Cell::gru ? 6 : 1) * hidden;
}
// Rows of the carry between backward steps: d h, and for lstm d c.
constexpr int carry_rows(int hidden) { return 2 * hidden; }
// A layer's states hold T + 1 steps: step 0 the state the window starts from (its
// first initial_rows: h, and for lstm c, the carried state of dsl/layers.hpp; the rest
// zero), step t + 1 the state after input step t.
constexpr int initial_rows(Cell c, int hidden) {
  return carried_rows(Node{.op = c == Cell::lstm ? Op::lstm : c == Cell::gru ? Op::gru : Op::rnn, .units = hidden});
}

// attention_lstm (generators/ops/attention.cpp), with C grid channels and L locations:
// per sample and step 6 H + C + L state rows, h, c and the gates as lstm's, then the
// context z (C, from row attention_context_row) and the attention alpha (L); and
// 4 H + C + L gradient rows: at the gates' pre-activations, at the context (all of
// d loss / d z), at the scores e (before the softmax).
constexpr int attention_context_row(int hidden) { return 6 * hidden; }
constexpr int attention_state_rows(int hidden, int channels, int locations) {
  return 6 * hidden + channels + locations;
}
constexpr int attention_gradient_rows(int hidden, int channels, int locations) {
  return 4 * hidden + channels + locations;
}

}  // namespace kiln::gen::cells
