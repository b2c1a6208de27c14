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

}  // namespace kiln::models
