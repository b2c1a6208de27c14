// Captioning with soft attention (models/captioner.hpp) on the procedural captions
// (runtime/captions.hpp): greedy decoding, held-out scores, training on samples made on
// the fly, and pictures of where the decoder looked.
#pragma once
#include "runtime/captions.hpp"
#include "runtime/image.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/step_loop.hpp"

#include <cstdio>
#include <vector>

namespace kiln::captioning {

// Training samples are indices of set `seed`; the held-out ones are `held_out` samples
// of set held_out_seed, never trained on.
struct Split {
  uint64_t seed = 0, held_out_seed = 1;
  int held_out = 1000;
  int epoch_samples = 8000;  // an epoch (the data never repeats: only a reporting unit)
};

// The model's grid: its attention maps' side (L = side^2 locations over the image);
// kiln::Error unless the model reads 3 x 48 x 48 images and words [steps], gives (steps,
// vocabulary) logits and has an attention entry.
int grid_side(const ModelView& model);

// Greedy captions of `count` images (3 x 48 x 48 each): step t's word is the arg-max of
// the logits at step t, fed back as the word before step t + 1 (steps forward calls, the
// decoder being causal). Returns the predicted ids [count, steps]; with `attention`, also
// each step's weights over the grid [count, steps, L] from the last call.
std::vector<int32_t> greedy(const Network& net, const Parameters& params, const float* images, int count,
                            std::vector<float>* attention = nullptr, int batch = 100);

struct Scores {
  int count = 0;
  double exact = 0;   // fraction of captions right word for word
  double words = 0;   // fraction of caption words right at their step (the <end> included)
  // Of the colour and shape words of correct captions: the fraction whose step's most
  // attended location (a cell of the grid) overlaps the box of the shape it names; of
  // those in captions of two shapes, the fraction where that cell is nearer the named
  // shape than the other (captions::landing); and both for a cell drawn uniformly
  // (chance).
  double on_object = 0, nearer_object = 0;
  double chance_on = 0, chance_nearer = 0;
  int attended = 0;   // how many such words
  int two_shapes = 0;  // how many of them in captions of two shapes
};
// The model's held-out scores.
Scores evaluate(const Network& net, const Parameters& params, const Split& split);
// "exact 93.2 %, words 98.7 %, attention on the named shape 47.1 % (chance 19.0 %) of 2418
// words, nearer it than the other 90.2 % (chance 43.0 %) of 1940".
std::string summary(const Scores& s);

// Trains on samples drawn at random from the training set, scoring the held-out ones
// after each epoch.
struct Epoch {
  EpochStats stats;
  Scores scores;
};
std::vector<Epoch> train(const Network& net, Parameters& params, const Split& split, const StepLoop& loop,
                         std::FILE* log);

// The image beside one panel per word of the caption: the image darkened where the
// decoder did not look at that word's step (its weights, bilinearly upsampled, scaled so
// that the step's most attended location is at full brightness), each panel scaled by
// `zoom`. attention: [steps, L] of one sample.
Image attention_strip(const Image& image, const float* attention, int side, int words, int zoom = 3);

}  // namespace kiln::captioning
