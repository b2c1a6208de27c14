// Character-level language models (models/char_rnn.hpp): training on random windows of a
// corpus, bits per character on held-out text, and sampling.
//
// A model reads T token ids (tokens(T, V)) and gives per-step logits (T, V): the logits at
// step t predict the character after the t-th. Training reads random windows, each from
// a zero state, or streams: truncated backpropagation through time, each window the
// continuation of its sample's window in the batch before, from the recurrent state that
// one ended with. Evaluation reads the held-out text both ways; sampling reads the last
// T characters from a zero state.
#pragma once
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/schedule.hpp"
#include "runtime/step_loop.hpp"
#include "runtime/text.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct TextEpochResult {
  int epoch = 0;
  double mean_loss = 0;            // nats per character, over the epoch's batches
  double held_out_bits = 0;        // bits per character over the whole held-out text, read as 64 streams
  double held_out_window_bits = 0;  // the same, each window of T from a zero state
  double characters_per_second = 0;
  double seconds = 0;              // training time so far
};

// The model's steps T and vocabulary V; kiln::Error unless it reads tokens and gives
// per-step logits over them.
struct TextShape {
  int steps = 0, vocabulary = 0;
};
TextShape text_shape(const ModelView& model);

// How training reads the text: random windows, each from a zero state; or streams, the
// text cut into one stream per sample of the batch, read window after window with the
// recurrent state carried between them (truncated backpropagation through time).
enum class TextWindows { random, streams };
// kiln::Error naming --windows for a name that is neither.
TextWindows parse_text_windows(std::string_view name);

// Trains `params` in place on the corpus's training text (an epoch: as many windows as
// the training text has windows of T; loop.hyper.clip_norm applies); evaluates the
// held-out text after each epoch. kiln::Error when the corpus has more symbols than the
// model's vocabulary, is shorter than a window (streams: than two per sample), or the
// loss stops being finite.
std::vector<TextEpochResult> train_language_model(const Network& net, Parameters& params,
                                                  const CharCorpus& corpus, const StepLoop& loop,
                                                  TextWindows windows, std::FILE* log);

// Bits per character of `text` (encoded), predicting every character but the first from
// the ones before it: carry, in `batch` streams read window after window with the state
// carried (each character from all before it in its stream); else in consecutive
// windows of T, each from a zero state.
double bits_per_character(const Network& net, const Parameters& params,
                          const std::vector<int32_t>& text, int batch = 64, bool carry = true);

// `length` characters after `prime`, each drawn from softmax(logits / temperature) given
// the last T characters (the prime included). kiln::Error for an empty prime, or one with
// a character outside the vocabulary.
std::string sample_text(const Network& net, const Parameters& params,
                        const CharVocabulary& vocabulary, std::string_view prime, int length,
                        float temperature, uint64_t seed);

// The vocabulary's symbols as weights-file metadata (hex) and back.
std::string vocabulary_metadata(const CharVocabulary& v);
CharVocabulary vocabulary_from_metadata(const std::string& hex, const std::string& path);

}  // namespace kiln
