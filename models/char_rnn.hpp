// Character-level language models (Karpathy's char-rnn): read 50 characters, predict
// each next one. The vocabulary is the corpus's distinct bytes (runtime/text.hpp), up to
// 128 of them (the fortunes files have 114); unused classes simply learn to stay unlikely.
// PyTorch twins: nn.Embedding(128, 64) -> nn.RNN / nn.LSTM(64, 256, batch_first=True)
// -> nn.Linear(256, 128) at every step; parameter names embedding.weight,
// rnn.weight_ih_l0, ..., fc.weight as kiln names them.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr int char_steps = 50, char_vocabulary = 128;

inline constexpr auto char_rnn = checked<model("char_rnn",
    tokens(char_steps, char_vocabulary),
    embedding(64).named("embedding"),
    rnn(256).named("rnn"),
    dense(char_vocabulary).named("fc"),
    softmax_cross_entropy)>;

inline constexpr auto char_lstm = checked<model("char_lstm",
    tokens(char_steps, char_vocabulary),
    embedding(64).named("embedding"),
    lstm(256).named("lstm"),
    dense(char_vocabulary).named("fc"),
    softmax_cross_entropy)>;

static_assert(char_lstm.output_shape() == shape(char_steps, char_vocabulary));
// embedding 128 x 64; lstm 4 x 256 x (64 + 256) + 2 x 1024; fc 256 x 128 + 128
static_assert(char_lstm.parameter_count() == 8192 + 327680 + 2048 + 32896);

// Random windows of the fortunes files (the last 5 % held out), Adam at 2e-3 decaying
// by a cosine, gradients clipped to norm 5.
inline constexpr Recipe char_recipe{.dataset = "fortunes", .epochs = 20, .batch = 32,
                                    .learning_rate = 2e-3f, .optimizer = "adam",
                                    .lr_schedule = "cosine", .clip_norm = 5.0f};

// The bench's language model (bench/lstm_lm_step.py): hidden 256, 50 steps, vocabulary
// 65 (tiny Shakespeare's), batch 32.
inline constexpr auto lstm_lm_bench = checked<model("lstm_lm_bench",
    tokens(50, 65), embedding(64).named("embedding"), lstm(256).named("lstm"),
    dense(65).named("fc"), softmax_cross_entropy)>;

}  // namespace kiln::models
