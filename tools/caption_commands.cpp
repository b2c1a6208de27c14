// kiln train / eval / predict for captioners of the procedural captions (recipe data set
// "captions", runtime/captioning.hpp), and kiln captions: sample images as PNG files with
// their true captions.
#include "runtime/captioning.hpp"
#include "runtime/error.hpp"
#include "runtime/files.hpp"
#include "runtime/registry.hpp"
#include "tools/commands.hpp"
#include "tools/flags.hpp"

#include <fmt/format.h>

namespace kiln::cli {

int train_captions(const std::vector<std::string>& args) {
  const Flags flags(args, with_training_flags({"out", "target"}), 1);
  const RegisteredModel& model = model_argument(flags);
  const StepLoop loop = training_flags(flags, model.recipe);
  const std::string out = flags.text("out", std::string(model.name) + ".safetensors");
  check_writable(out);
  const std::string target = flags.text("target", "cpu");
  const Network net(model, target);
  model.entry("train_step", target);
  const int side = captioning::grid_side(model.view);
  Parameters params(model.view);
  params.initialize(loop.seed);
  const captioning::Split split;
  fmt::print("training {} on procedural captions (made on the fly; {} held out), attention over {} x {} "
             "locations: {} epochs of {} images, batch {}, {} lr {} ({}){}\n",
             model.name, split.held_out, side, side, loop.epochs, split.epoch_samples, loop.batch,
             optimizer_name(loop.hyper.optimizer), loop.hyper.learning_rate,
             flags.text("lr-schedule", model.recipe.lr_schedule),
             loop.minutes > 0 ? fmt::format(", at most {:g} minutes", loop.minutes) : "");
  const std::vector<captioning::Epoch> epochs = captioning::train(net, params, split, loop, stdout);
  if (epochs.empty()) fail("no training step ran (--minutes too small?)");
  const captioning::Epoch& last = epochs.back();
  params.save(out, {{"model", std::string(model.name)}, {"epochs", std::to_string(last.stats.epoch)},
                    {"held_out_exact", fmt::format("{:.4f}", last.scores.exact)}});
  fmt::print("held-out {} on {} captions after {:.0f} s of training; weights saved to {}\n",
             captioning::summary(last.scores), split.held_out, last.stats.total_seconds, out);
  return 0;
}

namespace {
// eval's and predict's model, checked as a captioner before its weights are read.
struct Loaded {
  const RegisteredModel& model;
  Parameters params;
  Network net;
  int side;
};
Loaded load(const Flags& flags) {
  const RegisteredModel& model = model_argument(flags);
  const int side = captioning::grid_side(model.view);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  return {model, std::move(params), Network(model, flags.text("target", "cpu")), side};
}
}  // namespace

int eval_captions(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "target"}, 1);
  const Loaded l = load(flags);
  const captioning::Split split;
  fmt::print("held-out {} on {} captions\n", captioning::summary(captioning::evaluate(l.net, l.params, split)),
             split.held_out);
  return 0;
}

int predict_captions(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "target", "attention"}, 2);
  const std::string strip = flags.text("attention", "");
  if (!strip.empty()) check_writable(strip);
  const Loaded l = load(flags);
  const Image image = model_image(l.model, image_argument(flags));
  std::vector<float> attention;
  const std::vector<int32_t> predicted = captioning::greedy(l.net, l.params, image.pixels.data(), 1, &attention, 1);
  const std::vector<int> caption = captions::until_end(predicted.data());
  fmt::print("{}\n", captions::sentence(caption));
  if (!strip.empty()) {
    // A panel per word and one for its <end>.
    const int words = std::min(int(caption.size()) + 1, captions::steps);
    save_png(strip, captioning::attention_strip(image, attention.data(), l.side, words));
    fmt::print("wrote the image and where the decoder looked for each of the {} words (and <end>) to {}\n",
               caption.size(), strip);
  }
  return 0;
}

int captions_command(const std::vector<std::string>& args) {
  const Flags flags(args, {"count", "first", "seed", "out"}, 0);
  const captioning::Split split;
  const int count = flags.positive_int("count", 4), first = flags.non_negative_int("first", 0);
  // By default the held-out set: what the captioners were never trained on.
  const uint64_t seed = flags.seed("seed", split.held_out_seed);
  const std::string dir = flags.required("out");
  for (int i = first; i < first + count; ++i) {
    const captions::Sample s = captions::make_sample(seed, i);
    const std::string path = fmt::format("{}/caption_{}.png", dir, i);
    check_writable(path);
    save_png(path, Image{3, captions::image_size, captions::image_size, s.image});
    fmt::print("{}: {}\n", path, captions::sentence(s.caption));
  }
  return 0;
}

}  // namespace kiln::cli
