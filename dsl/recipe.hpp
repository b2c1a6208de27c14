// A model's training recipe: the data set and the defaults `kiln train MODEL` uses.
// It lives beside the model in models/; flags on the command line override it.
#pragma once
#include <string_view>

namespace kiln {

struct Recipe {
  std::string_view dataset = "mnist";    // the data set the CLI loads ("fortunes": text)
  int epochs = 10;
  int batch = 64;
  float learning_rate = 1e-3f;
  std::string_view optimizer = "adam";   // sgd, momentum, nesterov, adagrad, rmsprop, adam
  std::string_view lr_schedule = "cosine";  // constant, step, exponential, inverse_time, cosine
  float weight_decay = 0.0f;
  int augment_shift = 0;                 // random translations of up to this many pixels
  float clip_norm = 0.0f;                // > 0: gradients clipped to this global L2 norm
  // Language models: "random" windows, each from a zero state, or "streams": truncated
  // backpropagation through time, the recurrent state carried between batches
  // (runtime/language_model.hpp).
  std::string_view windows = "random";
};

}  // namespace kiln
