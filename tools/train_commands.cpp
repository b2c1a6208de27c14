// kiln train / eval / predict / models: classifiers on their recipe's data set.
#include "runtime/datasets.hpp"
#include "runtime/error.hpp"
#include "runtime/files.hpp"
#include "runtime/image.hpp"
#include "runtime/trainer.hpp"
#include "tools/commands.hpp"
#include "tools/flags.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace kiln::cli {

const RegisteredModel& model_argument(const Flags& flags) {
  if (flags.positional().empty())
    fail("name a model (known: {})", fmt::join(model_names(), ", "));
  return find_model(flags.positional()[0]);
}

namespace {
// The model the arguments name, if they name one.
const RegisteredModel* named_model(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a.rfind("--", 0) != 0) return &find_model(a);
  return nullptr;
}

// The recipe's data set of a classifier (--data overrides its folder), checked against
// the model: a loss over flat logits, and images of the model's input shape.
std::pair<ImageSet, ImageSet> classifier_data(const RegisteredModel& model, const Flags& flags) {
  const ModelView& v = model.view;
  const std::string_view dataset = model.recipe.dataset;
  if (v.loss_node < 0 || !v.output_shape().is_flat())
    fail("{} is not a classifier (no loss over flat logits), so it has no held-out images to "
         "train or score on", model.name);
  auto data = load_classification_data(dataset, flags.text("data", default_data_dir(dataset)));
  const ImageSet& images = data.first;
  const Shape in = v.input_shape();
  if (shape(images.channels, images.height, images.width) != in)
    fail("{} reads {} x {} x {} images; its data set {} holds {} x {} x {}", model.name,
         in.channels(), in.height(), in.width(), dataset, images.channels, images.height,
         images.width);
  return data;
}
}  // namespace

std::string image_argument(const Flags& flags) {
  if (flags.positional().size() != 2)
    fail("give one image: kiln predict MODEL --weights W IMAGE.png [--out ANNOTATED.png]");
  return flags.positional()[1];
}

Image model_image(const RegisteredModel& model, const std::string& path) {
  const Image image = load_png(path);
  const Shape in = model.view.input_shape();
  if (!in.is_image() || image.channels != in.channels() || image.height != in.height() ||
      image.width != in.width())
    fail("{}: image is {} x {} with {} channel(s); {} expects {} x {} with {}", path, image.width,
         image.height, image.channels, model.name, in.width(), in.height(), in.channels());
  return image;
}

std::string_view named_dataset(const std::vector<std::string>& args) {
  const RegisteredModel* m = named_model(args);
  return m ? m->recipe.dataset : std::string_view();
}

bool names_window_scanner(const std::vector<std::string>& args) {
  const RegisteredModel* m = named_model(args);
  return m && m->view.loss_node < 0 && m->view.output_shape().is_image();
}

StepLoop training_flags(const Flags& flags, const Recipe& recipe) {
  StepLoop t;
  t.epochs = flags.positive_int("epochs", recipe.epochs);
  t.batch = flags.positive_int("batch", recipe.batch);
  const Optimizer optimizer = parse_optimizer(flags.text("optimizer", recipe.optimizer));
  t.hyper = defaults_for(optimizer, flags.positive_float("lr", recipe.learning_rate));
  t.hyper.weight_decay = flags.non_negative_float("weight-decay", recipe.weight_decay);
  t.hyper.clip_norm = flags.non_negative_float("clip", recipe.clip_norm);
  t.lr_schedule = parse_lr_schedule(flags.text("lr-schedule", recipe.lr_schedule));
  t.seed = flags.seed("seed", 0);
  t.minutes = flags.non_negative_float("minutes", 0.0f);
  return t;
}

std::vector<std::string> with_training_flags(std::vector<std::string> own) {
  std::vector<std::string> all{"epochs", "batch",   "lr",      "optimizer", "lr-schedule",
                               "weight-decay", "clip", "minutes", "seed"};
  all.insert(all.end(), own.begin(), own.end());
  return all;
}

int train(const std::vector<std::string>& args) {
  if (named_dataset(args) == "fortunes") return train_text(args);
  if (named_dataset(args) == "scenes") return train_scenes(args);
  if (named_dataset(args) == "scene_boxes") return train_boxes(args);
  if (named_dataset(args) == "scene_object") return train_object(args);
  if (named_dataset(args) == "scene_masks") return train_masks(args);
  if (named_dataset(args) == "captions") return train_captions(args);
  const Flags flags(args, with_training_flags({"augment", "out", "data", "target"}), 1);
  const RegisteredModel& model = model_argument(flags);
  const Recipe& recipe = model.recipe;
  const StepLoop config = training_flags(flags, recipe);
  const int augment_shift = flags.non_negative_int("augment", recipe.augment_shift);
  const Optimizer optimizer = config.hyper.optimizer;
  const std::string out = flags.text("out", std::string(model.name) + ".safetensors");
  check_writable(out);  // before training, not after

  const std::string target = flags.text("target", "cpu");
  const Network net(model, target);
  model.entry("train_step", target);  // fails before the data loads
  const auto [train_set, held_out] = classifier_data(model, flags);
  if (config.batch > train_set.count)
    fail("--batch: {} is larger than the {} training images", config.batch, train_set.count);
  Parameters params(model.view);
  params.initialize(config.seed);
  fmt::print("training {} on {} ({} images, {} held out): {} epochs, batch {}, {} lr {} ({}), "
             "augment ±{} px\n",
             model.name, recipe.dataset, train_set.count, held_out.count, config.epochs,
             config.batch, optimizer_name(optimizer), config.hyper.learning_rate,
             flags.text("lr-schedule", recipe.lr_schedule), augment_shift);
  const auto results = train_classifier(net, params, train_set, held_out, config, augment_shift, stdout);
  const double acc = results.back().held_out_accuracy;
  params.save(out, {{"model", std::string(model.name)},
                    {"epochs", std::to_string(config.epochs)},
                    {"held_out_accuracy", fmt::format("{:.4f}", acc)}});
  fmt::print("test accuracy: {:.2f} % on {} held-out images; weights saved to {}\n", 100 * acc,
             held_out.count, out);
  return 0;
}

int eval(const std::vector<std::string>& args) {
  if (named_dataset(args) == "fortunes") return eval_text(args);
  if (named_dataset(args) == "scenes") return eval_scenes(args);
  if (named_dataset(args) == "scene_boxes") return eval_boxes(args);
  if (named_dataset(args) == "scene_object") return eval_object(args);
  if (named_dataset(args) == "scene_masks") return eval_masks(args);
  if (named_dataset(args) == "captions") return eval_captions(args);
  const Flags flags(args, {"weights", "data", "target", "batch"}, 1);
  const RegisteredModel& model = model_argument(flags);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  const Network net(model, flags.text("target", "cpu"));
  const auto [train_set, held_out] = classifier_data(model, flags);
  const double acc = accuracy(net, params, held_out, flags.positive_int("batch", 500));
  fmt::print("test accuracy: {:.2f} % on {} held-out images\n", 100 * acc, held_out.count);
  return 0;
}

int predict(const std::vector<std::string>& args) {
  if (named_dataset(args) == "scenes") return predict_scenes(args);
  if (named_dataset(args) == "scene_boxes") return predict_boxes(args);
  if (named_dataset(args) == "scene_object") return predict_object(args);
  if (named_dataset(args) == "scene_masks") return predict_masks(args);
  if (named_dataset(args) == "captions") return predict_captions(args);
  if (names_window_scanner(args)) return predict_windows(args);
  const Flags flags(args, {"weights", "target", "out"}, 2);
  const RegisteredModel& model = model_argument(flags);
  const std::string path = image_argument(flags);
  // --out: a spatial transformer's resampled image (what its classifier reads).
  const std::string out = flags.text("out", "");
  const int transformer = attention_node(model.view);
  if (!out.empty() && (transformer < 0 || model.view.nodes[transformer].op != Op::affine_sample))
    fail("--out: {} has no spatial transformer whose image to write", model.name);
  if (!out.empty()) check_writable(out);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  const Image image = model_image(model, path);
  const Network net(model, flags.text("target", "cpu"));
  std::vector<float> probabilities(net.output_size());
  net.forward(params.data(), params.buffers(), image.pixels.data(), 1, probabilities.data());
  if (!out.empty()) {
    const Shape s = attention_shape(model.view);
    Image sampled{s.channels(), s.height(), s.width(), std::vector<float>(s.elements())};
    net.attention(params.data(), params.buffers(), image.pixels.data(), 1, sampled.pixels.data());
    save_png(out, sampled);
    fmt::print("wrote the transformer's {} x {} image to {}\n", s.width(), s.height(), out);
  }
  softmax_rows(probabilities.data(), 1, int(probabilities.size()));
  const auto best = std::max_element(probabilities.begin(), probabilities.end());
  fmt::print("class {} (probability {:.4f})\n", best - probabilities.begin(), *best);
  for (std::size_t k = 0; k < probabilities.size(); ++k)
    fmt::print("  {}: {:.4f}\n", k, probabilities[k]);
  return 0;
}

int models(const std::vector<std::string>& args) {
  const Flags flags(args, {}, 0);
  for (const std::string& name : model_names()) {
    const RegisteredModel& m = find_model(name);
    std::vector<std::string> targets;
    for (const EntryRecord& e : m.entries)
      if (std::find(targets.begin(), targets.end(), e.target) == targets.end()) targets.push_back(e.target);
    fmt::print("{}  {} parameters  targets: {}\n", name, m.view.parameter_count, fmt::join(targets, ", "));
  }
  return 0;
}

}  // namespace kiln::cli
