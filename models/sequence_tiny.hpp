// Tiny sequence models for the tests (tests/models/test_sequences.cpp): every cell, both
// ways into it (embedding, one_hot, a real-valued sequence), stacked layers, many-to-many
// and many-to-one, checked against the double references and finite differences.
#pragma once
#include "dsl/kiln.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr auto tiny_lstm = checked<model("tiny_lstm",
    tokens(5, 7), embedding(3), lstm(4), dense(7), softmax_cross_entropy)>;
inline constexpr auto tiny_rnn = checked<model("tiny_rnn",
    tokens(4, 6), one_hot, rnn(5), kiln::tanh, rnn(3), dense(6), softmax_cross_entropy)>;
inline constexpr auto tiny_gru = checked<model("tiny_gru",
    input_sequence(4, 3), gru(5), lstm(4, last_step), dense(3), softmax_cross_entropy)>;

// Truncated backpropagation through time (tests/models/test_sequences.cpp): a stack of
// every cell, read in windows of 4 with the state carried, against the same layers over
// 8 steps at once.
inline constexpr auto tiny_stack = checked<model("tiny_stack",
    tokens(4, 7), embedding(3), lstm(4), gru(3), rnn(5), dense(7), softmax_cross_entropy)>;
inline constexpr auto tiny_stack_long = checked<model("tiny_stack_long",
    tokens(8, 7), embedding(3), lstm(4), gru(3), rnn(5), dense(7), softmax_cross_entropy)>;
static_assert(tiny_stack.carried_state() == 2 * 4 + 3 + 5);
static_assert(tiny_stack.parameter_count() == tiny_stack_long.parameter_count());

}  // namespace kiln::models
