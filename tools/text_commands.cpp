// kiln train / eval / sample for the character-level language models (recipe data set
// "fortunes": a text corpus, by default the fortunes package's files).
#include "runtime/error.hpp"
#include "runtime/files.hpp"
#include "runtime/language_model.hpp"
#include "runtime/safetensors.hpp"
#include "tools/commands.hpp"
#include "tools/flags.hpp"

#include <fmt/format.h>

#include <cmath>

namespace kiln::cli {

namespace {
std::string text_path(const Flags& flags) { return flags.text("text", fortunes_folder); }
}  // namespace

int train_text(const std::vector<std::string>& args) {
  const Flags flags(args, with_training_flags({"out", "text", "target", "windows"}), 1);
  const RegisteredModel& model = model_argument(flags);
  const Recipe& recipe = model.recipe;
  const StepLoop config = training_flags(flags, recipe);
  const Optimizer optimizer = config.hyper.optimizer;
  const std::string out = flags.text("out", std::string(model.name) + ".safetensors");
  check_writable(out);
  const std::string target = flags.text("target", "cpu");
  const Network net(model, target);
  model.entry("train_step", target);
  const TextShape shape = text_shape(model.view);
  const std::string windows = flags.text("windows", recipe.windows);
  const TextWindows reading = parse_text_windows(windows);
  const CharCorpus corpus = load_char_corpus(text_path(flags));
  Parameters params(model.view);
  params.initialize(config.seed);
  fmt::print("training {} on {} ({} files, {} characters, {} distinct; {} held out): {} windows of {}, "
             "{} epochs, batch {}, {} lr {} ({}), clip {}{}\n",
             model.name, text_path(flags), corpus.files.size(), corpus.text.size(),
             corpus.vocabulary.size(), corpus.held_out.size(), windows, shape.steps, config.epochs,
             config.batch, optimizer_name(optimizer), config.hyper.learning_rate,
             flags.text("lr-schedule", recipe.lr_schedule), config.hyper.clip_norm,
             config.minutes > 0 ? fmt::format(", at most {:g} minutes", config.minutes) : "");
  const auto results = train_language_model(net, params, corpus, config, reading, stdout);
  if (results.empty()) fail("no training step ran (--minutes too small?)");
  const TextEpochResult& last = results.back();
  params.save(out, {{"model", std::string(model.name)},
                    {"epochs", std::to_string(last.epoch)},
                    {"vocabulary", vocabulary_metadata(corpus.vocabulary)},
                    {"held_out_bits_per_character", fmt::format("{:.4f}", last.held_out_bits)}});
  fmt::print("held-out: {:.3f} bits per character over {} characters ({:.3f} with each window from zero) after "
             "{:.0f} s of training; weights saved to {}\n",
             last.held_out_bits, corpus.held_out.size(), last.held_out_window_bits, last.seconds, out);
  return 0;
}

int eval_text(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "text", "target", "batch"}, 1);
  const RegisteredModel& model = model_argument(flags);
  Parameters params(model.view);
  const std::string weights = flags.required("weights");
  params.load(weights);
  const CharVocabulary saved = vocabulary_from_metadata(load_safetensors(weights).metadata["vocabulary"], weights);
  const CharCorpus corpus = load_char_corpus(text_path(flags));
  // The held-out text, encoded with the weights' vocabulary.
  const std::string_view all(corpus.text);
  const std::vector<int32_t> held = saved.encode(all.substr(all.size() - corpus.held_out.size()));
  const Network net(model, flags.text("target", "cpu"));
  const int batch = flags.positive_int("batch", 64);
  fmt::print("held-out: {:.3f} bits per character over {} characters ({:.3f} with each window from zero)\n",
             bits_per_character(net, params, held, batch, true), held.size(),
             bits_per_character(net, params, held, batch, false));
  return 0;
}

int sample(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "prime", "length", "temperature", "seed", "target"}, 1);
  const RegisteredModel& model = model_argument(flags);
  text_shape(model.view);
  Parameters params(model.view);
  const std::string weights = flags.required("weights");
  params.load(weights);
  const CharVocabulary vocabulary = vocabulary_from_metadata(load_safetensors(weights).metadata["vocabulary"], weights);
  const Network net(model, flags.text("target", "cpu"));
  const std::string prime = flags.text("prime", "The ");
  const std::string text = sample_text(net, params, vocabulary, prime, flags.positive_int("length", 500),
                                       flags.positive_float("temperature", 0.8f), flags.seed("seed", 0));
  fmt::print("{}{}\n", prime, text);
  return 0;
}

}  // namespace kiln::cli
