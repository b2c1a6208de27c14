// A decoder after flatten: its attention_lstm has no grid of locations to attend over.
// expect-first: kiln::shape_error::attention_expects_a_sequence_and_an_image<
// expect: static assertion failed: attention_lstm: reads a (T, E) sequence
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(4, 3, pad(1)),
#ifdef KILN_BAD
    flatten,
#endif
    decoder(tokens(5, 7), embedding(3), attention_lstm(4)), dense(7), softmax_cross_entropy)>;
