#include "runtime/language_model.hpp"

#include "runtime/error.hpp"
#include "runtime/step_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace kiln {

namespace {
// log2 of softmax(row)[target].
double log2_probability(const float* row, int k, int target) {
  const float m = *std::max_element(row, row + k);
  double total = 0;
  for (int j = 0; j < k; ++j) total += std::exp(double(row[j]) - m);
  return (double(row[target]) - m - std::log(total)) / std::log(2.0);
}
}  // namespace

TextWindows parse_text_windows(std::string_view name) {
  if (name == "random") return TextWindows::random;
  if (name == "streams") return TextWindows::streams;
  fail("--windows: expects random or streams, got '{}'", name);
}

TextShape text_shape(const ModelView& model) {
  const Shape in = model.input_shape(), out = model.output_shape();
  const int vocabulary = model.nodes[0].vocabulary;
  if (vocabulary <= 0 || !out.is_sequence() || out[0] != in[0] || out[1] != vocabulary)
    fail("{} is not a character-level language model (tokens(T, V) in, per-step logits (T, V) out)", model.name);
  return {in[0], vocabulary};
}

double bits_per_character(const Network& net, const Parameters& params,
                          const std::vector<int32_t>& text, int batch, bool carry) {
  const auto [T, V] = text_shape(net.view());
  const long long size = (long long)text.size(), predicted = size - 1;
  if (predicted <= 0) return 0.0;
  // Sample s of a call reads text[first(s) + t] and predicts text[first(s) + t + 1], for
  // positions before end(s): zero state, window w T of the text per sample; carried, the
  // text cut into `batch` streams read window after window.
  const long long stream = carry ? (predicted + batch - 1) / batch : T;
  const long long calls = carry ? (stream + T - 1) / T : (predicted + T * (long long)batch - 1) / (T * (long long)batch);
  std::vector<float> input(std::size_t(batch) * T), logits(std::size_t(batch) * T * V);
  const long long S = net.carried_size();
  std::vector<float> state_in(carry ? std::size_t(batch * S) : 0, 0.0f), state_out(state_in.size());
  double bits = 0;
  for (long long call = 0; call < calls; ++call) {
    const long long first_window = carry ? 0 : call * batch;
    const int n = carry ? batch : int(std::min<long long>(batch, (predicted + T - 1) / T - first_window));
    auto first = [&](int s) { return carry ? s * stream + call * T : (first_window + s) * T; };
    auto end = [&](int s) { return std::min(predicted, carry ? (s + 1) * stream : first(s) + T); };
    std::fill(input.begin(), input.end(), 0.0f);  // past the end: any id; its predictions are not read
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < T && first(s) + t < end(s); ++t) input[std::size_t(s) * T + t] = float(text[std::size_t(first(s) + t)]);
    net.forward(params.data(), params.buffers(), input.data(), n, logits.data(), nullptr,
                carry ? Carry{state_in.data(), state_out.data()} : Carry{});
    std::swap(state_in, state_out);
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < T && first(s) + t < end(s); ++t)
        bits -= log2_probability(logits.data() + (std::size_t(s) * T + t) * V, V, text[std::size_t(first(s) + t + 1)]);
  }
  return bits / double(predicted);
}

std::vector<TextEpochResult> train_language_model(const Network& net, Parameters& params,
                                                  const CharCorpus& corpus, const StepLoop& loop,
                                                  TextWindows windows, std::FILE* log) {
  const auto [T, V] = text_shape(net.view());
  const std::string_view model = net.view().name;
  if (corpus.vocabulary.size() > V)
    fail("the text has {} distinct characters; {} was built for at most {}", corpus.vocabulary.size(), model, V);
  const std::vector<int32_t>& text = corpus.train;
  const long long size = (long long)text.size();
  if (size < T + 1)
    fail("the training text has {} characters; {} reads windows of {} (and the character after)", size, model, T);
  const bool streams = windows == TextWindows::streams;
  // streams: sample s of every batch reads stream s, text[s L, (s + 1) L), window after
  // window from an offset drawn at each epoch's start in [0, T).
  const long long stream = size / loop.batch;
  if (streams && stream < 2 * T)
    fail("the training text has {} characters: too few for {} streams (--batch) of at least {} (twice the window)",
         size, loop.batch, 2 * T);
  const int steps = int(streams ? (stream - T) / T : std::max<long long>(1, size / (T * loop.batch)));
  const EpochPlan plan{steps, "chars", double(T), streams};
  long long step_in_epoch = 0, offset = 0;
  // A batch: windows of T characters, each labelled with the next T; at random starts,
  // or each stream's next.
  auto fill = [&](SplitMix64& rng, float* input, int32_t* labels, float*, float*) {
    if (streams && step_in_epoch == 0) offset = (long long)(rng.next() % uint64_t(T));
    for (int s = 0; s < loop.batch; ++s) {
      const long long at = streams ? s * stream + offset + step_in_epoch * T
                                   : (long long)(rng.next() % uint64_t(size - T));
      for (int t = 0; t < T; ++t) {
        input[std::size_t(s) * T + t] = float(text[std::size_t(at + t)]);
        labels[std::size_t(s) * T + t] = text[std::size_t(at + t + 1)];
      }
    }
    step_in_epoch = (step_in_epoch + 1) % steps;
  };
  std::vector<TextEpochResult> results;
  auto done = [&](const EpochStats& s) {
    const TextEpochResult r{s.epoch, s.mean_loss, bits_per_character(net, params, corpus.held_out, 64, true),
                            bits_per_character(net, params, corpus.held_out, 64, false),
                            s.steps * double(loop.batch) * T / std::max(s.seconds, 1e-9), s.total_seconds};
    results.push_back(r);
    return fmt::format("({:.3f} bits/char)  held-out {:.3f} bits/char ({:.3f} with each window from zero)",
                       r.mean_loss / std::log(2.0), r.held_out_bits, r.held_out_window_bits);
  };
  run_steps(net, params, loop, plan, fill, done, log);
  return results;
}

std::string sample_text(const Network& net, const Parameters& params,
                        const CharVocabulary& vocabulary, std::string_view prime, int length,
                        float temperature, uint64_t seed) {
  const auto [T, V] = text_shape(net.view());
  if (prime.empty()) fail("--prime: give at least one character to start from");
  if (!(temperature > 0)) fail("--temperature: expects a positive number, got {}", temperature);
  std::vector<int32_t> context;
  for (std::size_t k = 0; k < prime.size(); ++k) {
    const int s = vocabulary.index(prime[k]);
    if (s < 0)
      fail("--prime: character 0x{:02x} ('{}') at offset {} is not in the model's vocabulary",
           std::uint8_t(prime[k]), prime[k], k);
    context.push_back(s);
  }
  SplitMix64 rng(seed);
  std::vector<float> input(T), logits(std::size_t(T) * V);
  std::vector<double> p(V);
  std::vector<int32_t> drawn;
  for (int k = 0; k < length; ++k) {
    const std::size_t used = std::min<std::size_t>(T, context.size());
    std::fill(input.begin(), input.end(), 0.0f);
    for (std::size_t t = 0; t < used; ++t) input[t] = float(context[context.size() - used + t]);
    net.forward(params.data(), params.buffers(), input.data(), 1, logits.data());
    const float* row = logits.data() + (used - 1) * V;
    // Only the vocabulary's symbols: the model's other classes never occur in the text.
    const int symbols = vocabulary.size();
    const float top = *std::max_element(row, row + symbols);
    double total = 0;
    for (int j = 0; j < symbols; ++j) total += (p[j] = std::exp((double(row[j]) - top) / temperature));
    double u = rng.uniform() * total;
    int pick = 0;
    while (pick < symbols - 1 && u >= p[pick]) u -= p[pick++];
    context.push_back(pick);
    drawn.push_back(pick);
  }
  return vocabulary.decode(drawn);
}

std::string vocabulary_metadata(const CharVocabulary& v) {
  std::string hex;
  for (int k = 0; k < v.size(); ++k) hex += fmt::format("{:02x}", std::uint8_t(v.symbol(k)));
  return hex;
}

CharVocabulary vocabulary_from_metadata(const std::string& hex, const std::string& path) {
  std::string symbols;
  if (hex.empty() || hex.size() % 2 != 0) fail("{}: no character vocabulary in its metadata (weights of a language model?)", path);
  for (std::size_t k = 0; k < hex.size(); k += 2) {
    const std::string byte = hex.substr(k, 2);
    char* end = nullptr;
    const long value = std::strtol(byte.c_str(), &end, 16);
    if (end != byte.c_str() + 2) fail("{}: the vocabulary in its metadata is not hex ('{}')", path, byte);
    symbols.push_back(char(value));
  }
  return CharVocabulary(symbols);
}

}  // namespace kiln
