// A language model whose per-step logits do not cover its vocabulary of 65 characters.
// expect-first: kiln::shape_error::loss_classes_differ_from_vocabulary<4, kiln::Label{"softmax_cross_entropy1"}, kiln::Shape{2, int [4]{50, 64, 0, 0}}, kiln::Shape{1, int [4]{65, 0, 0, 0}}>
// expect: static assertion failed: softmax_cross_entropy: a language model's per-step logits (T, K) predict the next token, so K must equal the vocabulary V of tokens(T, V)
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", tokens(50, 65), embedding(32), lstm(128),
#ifdef KILN_BAD
    dense(64),
#else
    dense(65),
#endif
    softmax_cross_entropy)>;
