// Tiny models with the attention ops, for the tests (tests/models/test_attention.cpp):
// a decoder whose attention_lstm attends over a conv's 3 x 4 grid (with coordinates), and a spatial
// transformer whose localization reads the image itself, both checked entry by entry
// against the double references and finite differences.
#pragma once
#include "dsl/kiln.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr auto tiny_attention = checked<model("tiny_attention",
    input(2, 3, 4), conv2d(3, 3, pad(1)), kiln::tanh,      // 3 channels of 12 locations,
    coordinates,                                           // and their coordinates
    decoder(tokens(4, 6), embedding(3), attention_lstm(5).named("decoder")),
    dense(6), softmax_cross_entropy)>;
static_assert(tiny_attention.output_shape() == shape(4, 6));

inline constexpr auto tiny_transformer = checked<model("tiny_transformer",
    input(2, 7, 6),
    spatial_transformer(sequence(flatten, dense(6)), 5, 4),
    conv2d(2, 3), flatten, dense(3), softmax_cross_entropy)>;
static_assert(tiny_transformer.output_shape() == shape(3));

}  // namespace kiln::models
