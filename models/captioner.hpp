// Captioning with soft attention (Xu et al. 2015, "Show, Attend and Tell") of the
// procedural captions (runtime/captions.hpp): 3 x 48 x 48 images of one or two coloured
// shapes, sentences of up to 8 words from a vocabulary of 13 ("a red circle left of a
// blue square"). Three conv stages give a 64-channel grid of 6 x 6 locations, each cell
// of 8 x 8 pixels, with its coordinates appended; a decoder reads
// the words so far (teacher forcing in training, its own choices when captioning) and
// at every step attends over the grid: the context it reads says what it looked at and
// where (left of, above). The logits of each next word are read from the step's h and
// context.
#pragma once
#include "dsl/kiln.hpp"
#include "dsl/recipe.hpp"

namespace kiln::models {
using namespace kiln;

inline constexpr int caption_steps = 9, caption_vocabulary = 13;

inline constexpr auto captioner = checked<model("captioner",
    input(3, 48, 48),
    conv2d(32, 3, pad(1)), relu, max_pool(2),  // 32 x 24 x 24
    conv2d(64, 3, pad(1)), relu, max_pool(2),  // 64 x 12 x 12
    conv2d(64, 3, pad(1)), relu, max_pool(2),  // 64 x 6 x 6: 36 locations
    coordinates,                               // 66 x 6 x 6
    decoder(tokens(caption_steps, caption_vocabulary), embedding(32).named("embedding"),
            attention_lstm(192).named("decoder")),  // (9, 192 + 66)
    dense(caption_vocabulary).named("fc"),
    softmax_cross_entropy)>;

static_assert(captioner.output_shape() == shape(caption_steps, caption_vocabulary));

// Captions made on the fly, Adam at 2e-3 with a cosine decay, gradients clipped to norm 5.
inline constexpr Recipe captioner_recipe{.dataset = "captions", .epochs = 25, .batch = 32,
                                         .learning_rate = 2e-3f, .optimizer = "adam",
                                         .lr_schedule = "cosine", .clip_norm = 5.0f};

}  // namespace kiln::models
