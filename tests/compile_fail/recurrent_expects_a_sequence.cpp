// An LSTM after a flat layer: recurrent layers read (T, F) sequences.
// expect-first: kiln::shape_error::recurrent_layer_expects_a_sequence<2, kiln::Label{"lstm1"}, kiln::Shape{1, int [4]{16, 0, 0, 0}}>
// expect: static assertion failed: rnn/lstm/gru: expects a (T, F) sequence
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net",
#ifdef KILN_BAD
    input(32), dense(16),
#else
    input_sequence(8, 32), dense(16),
#endif
    lstm(64), dense(4), softmax_cross_entropy)>;
