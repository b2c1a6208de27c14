#include "runtime/language_model.hpp"

#include "runtime/error.hpp"
#include "runtime/step_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

TextShape text_shape(const ModelView& model) {
  const Shape in = model.input_shape(), out = model.output_shape();
  const int vocabulary = model.nodes[0].vocabulary;
  if (vocabulary <= 0 || !out.is_sequence() || out[0] != in[0] || out[1] != vocabulary)
    fail("{} is not a character-level language model (tokens(T, V) in, per-step logits (T, V) out)", model.name);
  return {in[0], vocabulary};
}

double bits_per_character(const Network& net, const Parameters& params,
                          const std::vector<int32_t>& text, int batch) {
  const auto [T, V] = text_shape(net.view());
  // Window w reads text[w T ...] and predicts text[w T + 1 ...]: every character but the first.
  const long long predicted = (long long)text.size() - 1;
  const long long windows = (predicted + T - 1) / T;
  std::vector<float> input(std::size_t(batch) * T), logits(std::size_t(batch) * T * V);
  double bits = 0;
  for (long long first = 0; first < windows; first += batch) {
    const int n = int(std::min<long long>(batch, windows - first));
    std::fill(input.begin(), input.end(), 0.0f);  // past the end: any id; its predictions are not read
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < T; ++t) {
        const long long at = (first + s) * T + t;
        if (at < (long long)text.size()) input[std::size_t(s) * T + t] = float(text[std::size_t(at)]);
      }
    net.forward(params.data(), params.buffers(), input.data(), n, logits.data());
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < T; ++t) {
        const long long target = (first + s) * T + t + 1;
        if (target >= (long long)text.size()) break;
        bits -= log2_probability(logits.data() + (std::size_t(s) * T + t) * V, V, text[std::size_t(target)]);
      }
  }
  return predicted > 0 ? bits / double(predicted) : 0.0;
}

std::vector<TextEpochResult> train_language_model(const Network& net, Parameters& params,
                                                  const CharCorpus& corpus, const StepLoop& loop,
                                                  std::FILE* log) {
  const auto [T, V] = text_shape(net.view());
  const std::string_view model = net.view().name;
  if (corpus.vocabulary.size() > V)
    fail("the text has {} distinct characters; {} was built for at most {}", corpus.vocabulary.size(), model, V);
  const std::vector<int32_t>& text = corpus.train;
  if ((long long)text.size() < T + 1)
    fail("the training text has {} characters; {} reads windows of {} (and the character after)", text.size(), model, T);
  const long long starts = (long long)text.size() - T;  // window starts: [0, starts)
  const EpochPlan plan{int(std::max<long long>(1, (long long)text.size() / (T * loop.batch))),
                       "chars", double(T)};
  // A batch: windows of T characters at random starts, each labelled with the next T.
  auto fill = [&](SplitMix64& rng, float* input, int32_t* labels, float*, float*) {
    for (int s = 0; s < loop.batch; ++s) {
      const long long at = (long long)(rng.next() % uint64_t(starts));
      for (int t = 0; t < T; ++t) {
        input[std::size_t(s) * T + t] = float(text[std::size_t(at + t)]);
        labels[std::size_t(s) * T + t] = text[std::size_t(at + t + 1)];
      }
    }
  };
  std::vector<TextEpochResult> results;
  auto done = [&](const EpochStats& s) {
    const TextEpochResult r{s.epoch, s.mean_loss, bits_per_character(net, params, corpus.held_out),
                            s.steps * double(loop.batch) * T / std::max(s.seconds, 1e-9),
                            s.total_seconds};
    results.push_back(r);
    return fmt::format("({:.3f} bits/char)  held-out {:.3f} bits/char", r.mean_loss / std::log(2.0),
                       r.held_out_bits);
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
