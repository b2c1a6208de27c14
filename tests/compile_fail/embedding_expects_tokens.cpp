// An embedding of a real-valued sequence: it looks up token ids, read from tokens(T, V).
// expect-first: kiln::shape_error::embedding_expects_token_ids<1, kiln::Label{"embedding1"}, kiln::Shape{2, int [4]{20, 1, 0, 0}}>
// expect: static assertion failed: embedding/one_hot: read the token ids of the model's input
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net",
#ifdef KILN_BAD
    input_sequence(20, 1),
#else
    tokens(20, 30),
#endif
    embedding(8), gru(16), dense(30), softmax_cross_entropy)>;
