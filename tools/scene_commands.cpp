// kiln train / eval / predict for the models of the procedural scenes (runtime/scenes.hpp,
// made on the fly): segmentation (recipe data set "scenes"), detection ("scene_boxes") and
// classification with localization of one object ("scene_object").
#include "runtime/detection.hpp"
#include "runtime/error.hpp"
#include "runtime/files.hpp"
#include "runtime/image.hpp"
#include "runtime/localization.hpp"
#include "runtime/two_stage.hpp"
#include "runtime/registry.hpp"
#include "runtime/segmentation.hpp"
#include "runtime/trainer.hpp"
#include "tools/commands.hpp"
#include "tools/flags.hpp"

#include <fmt/format.h>

namespace kiln::cli {

namespace {

// What the scene trainers share: the flags, the network, fresh parameters, the split,
// the line that says what is trained, and the weights file at the end.
struct SceneTraining {
  Flags flags;
  const RegisteredModel& model;
  StepLoop loop;
  std::string out;
  Network net;
  Parameters params;
  SceneSplit split;

  explicit SceneTraining(const std::vector<std::string>& args)
      : flags(args, with_training_flags({"out", "target"}), 1),
        model(model_argument(flags)),
        loop(training_flags(flags, model.recipe)),
        out(flags.text("out", std::string(model.name) + ".safetensors")),
        net(model, flags.text("target", "cpu")),
        params(model.view) {
    check_writable(out);
    model.entry("train_step", flags.text("target", "cpu"));
    params.initialize(loop.seed);
  }
  // "training MODEL on DATA: E epochs of 2000 scenes, batch B, adam lr 0.002 (cosine)".
  void announce(const std::string& data) const {
    fmt::print("training {} on {}; {} held out: {} epochs of {} scenes, batch {}, {} lr {} ({}){}\n",
               model.name, data, split.held_out, loop.epochs, split.epoch_scenes, loop.batch,
               optimizer_name(loop.hyper.optimizer), loop.hyper.learning_rate,
               flags.text("lr-schedule", model.recipe.lr_schedule),
               loop.minutes > 0 ? fmt::format(", at most {:g} minutes", loop.minutes) : "");
  }
  // Saves the weights with the last epoch's score (`key` in the metadata, `what` in the line).
  void finish(const EpochStats& last, const std::string& key, const std::string& what, double score) {
    params.save(out, {{"model", std::string(model.name)}, {"epochs", std::to_string(last.epoch)},
                      {key, fmt::format("{:.4f}", score)}});
    fmt::print("held-out {} {:.4f} on {} scenes after {:.0f} s of training; weights saved to {}\n", what,
               score, split.held_out, last.total_seconds, out);
  }
};

// What the scene models' eval and predict share: the flags (`known` besides --weights and
// --target), the model, --out (checked writable before anything runs), the model's
// layout (`check`, before the weights are read), its weights and its network.
struct SceneInference {
  Flags flags;
  const RegisteredModel& model;
  std::string out;
  Parameters params;
  Network net;

  SceneInference(const std::vector<std::string>& args, std::vector<std::string> known, int positional,
                 void (*check)(const ModelView&) = nullptr)
      : flags(args, with_inference_flags(std::move(known)), positional),
        model(model_argument(flags)),
        out(flags.text("out", "")),
        params(model.view),
        net(checked_network(*this, check)) {}
  // predict's image, the second argument, as the model reads it.
  Image image() const { return model_image(model, image_argument(flags)); }

 private:
  static std::vector<std::string> with_inference_flags(std::vector<std::string> known) {
    known.insert(known.end(), {"weights", "target"});
    return known;
  }
  static Network checked_network(SceneInference& self, void (*check)(const ModelView&)) {
    if (!self.out.empty()) check_writable(self.out);
    if (check) check(self.model.view);
    self.params.load(self.flags.required("weights"));
    return Network(self.model, self.flags.text("target", "cpu"));
  }
};

// The held-out scenes of the default split at side `size`.
scenes::SceneSet held_out_at(int size) {
  const SceneSplit split;
  return scenes::make_scenes(split.held_out, size, split.seed, split.train_scenes);
}

template <class Epochs>
const auto& last_epoch(const Epochs& results) {
  if (results.empty()) fail("no training step ran (--minutes too small?)");
  return results.back();
}

}  // namespace

int train_scenes(const std::vector<std::string>& args) {
  SceneTraining t(args);
  const int size = segmentation_size(t.model.view);
  t.announce(fmt::format("scenes of {} x {} (made on the fly)", size, size));
  const auto results = train_segmentation(t.net, t.params, t.split, t.loop, stdout);
  const auto& last = last_epoch(results);
  t.finish(last.stats, "held_out_mean_iou", "mean IoU", last.mean_iou);
  return 0;
}

int train_boxes(const std::vector<std::string>& args) {
  SceneTraining t(args);
  const detection::Layout l = detection::layout_of(t.model.view);
  t.announce(fmt::format("scenes of {} x {} with their boxes (made on the fly), {} x {} cells of {} anchors",
                         l.size, l.size, l.grid, l.grid, l.anchors));
  const auto results = detection::train_detection(t.net, t.params, t.split, t.loop, stdout);
  const auto& last = last_epoch(results);
  t.finish(last.stats, "held_out_map_50", "mAP@0.5", last.scores.map_50.mean);
  return 0;
}

int train_object(const std::vector<std::string>& args) {
  SceneTraining t(args);
  const int size = localization::image_size(t.model.view);
  t.announce(fmt::format("single-object scenes of {} x {} (made on the fly)", size, size));
  const auto results = localization::train(t.net, t.params, t.split, t.loop, stdout);
  const auto& last = last_epoch(results);
  t.finish(last.stats, "held_out_localized", "localized fraction", last.scores.correct);
  return 0;
}

int train_masks(const std::vector<std::string>& args) {
  SceneTraining t(args);
  const two_stage::Layout l = two_stage::layout_of(t.model.view);
  t.announce(fmt::format("scenes of {} x {} with boxes and instance masks (made on the fly), {} regions "
                         "per image", l.size, l.size, l.regions));
  const auto results = two_stage::train(t.net, t.params, t.split, t.loop, stdout);
  const auto& last = last_epoch(results);
  t.finish(last.stats, "held_out_box_map_50", "box mAP@0.5", last.scores.box_map.mean);
  return 0;
}

int eval_masks(const std::vector<std::string>& args) {
  const SceneInference run(args, {}, 1);
  const scenes::SceneSet held_out = held_out_at(two_stage::layout_of(run.model.view).size);
  fmt::print("held-out {} on {} scenes\n", two_stage::summary(two_stage::evaluate(run.net, run.params, held_out)),
             held_out.count);
  return 0;
}

int predict_masks(const std::vector<std::string>& args) {
  const SceneInference run(args, {"out", "threshold"}, 2, [](const ModelView& v) { two_stage::layout_of(v); });
  const float threshold = run.flags.positive_float("threshold", 0.5f);
  const Image image = run.image();
  const two_stage::Found found = two_stage::detect(run.net, run.params, image.pixels.data(), 1, threshold);
  std::vector<uint8_t> classes(std::size_t(image.width) * image.height, 0);
  for (std::size_t d = 0; d < found.detections.size(); ++d) {
    const metrics::Detection& det = found.detections[d];
    std::size_t area = 0;
    for (std::size_t p = 0; p < classes.size(); ++p)
      if (found.masks[d * classes.size() + p]) {
        classes[p] = uint8_t(1 + det.class_id);
        ++area;
      }
    fmt::print("{} {:.3f}: x {:.1f}..{:.1f}, y {:.1f}..{:.1f}, mask {} px\n", scenes::class_names[det.class_id],
               det.score, det.box.x0, det.box.x1, det.box.y0, det.box.y1, area);
  }
  fmt::print("{} objects found (score >= {})\n", found.detections.size(), threshold);
  if (!run.out.empty()) {
    save_png(run.out, detection::draw_detections(overlay_classes(image, classes), found.detections));
    fmt::print("wrote the boxes and masks over the image to {}\n", run.out);
  }
  return 0;
}

int eval_object(const std::vector<std::string>& args) {
  const SceneInference run(args, {"batch"}, 1);
  const scenes::SceneSet held_out = localization::held_out_objects({}, localization::image_size(run.model.view));
  const localization::Scores s =
      localization::evaluate(run.net, run.params, held_out, run.flags.positive_int("batch", 64));
  fmt::print("held-out {} on {} scenes\n", localization::summary(s), held_out.count);
  return 0;
}

int predict_object(const std::vector<std::string>& args) {
  const SceneInference run(args, {"out"}, 2, [](const ModelView& v) { localization::image_size(v); });
  const Image image = run.image();
  std::vector<float> numbers(localization::outputs);
  run.net.forward(run.params.data(), run.params.buffers(), image.pixels.data(), 1, numbers.data());
  const metrics::Detection d = localization::decode(numbers.data());
  fmt::print("{} {:.3f}: x {:.1f}..{:.1f}, y {:.1f}..{:.1f}\n", scenes::class_names[d.class_id], d.score,
             d.box.x0, d.box.x1, d.box.y0, d.box.y1);
  if (!run.out.empty()) {
    save_png(run.out, detection::draw_detections(image, std::span(&d, 1)));
    fmt::print("wrote the box over the image to {}\n", run.out);
  }
  return 0;
}

int eval_boxes(const std::vector<std::string>& args) {
  const SceneInference run(args, {"batch"}, 1);
  const scenes::SceneSet held_out = held_out_at(detection::layout_of(run.model.view).size);
  const detection::DetectionScores s =
      detection::evaluate_detection(run.net, run.params, held_out, run.flags.positive_int("batch", 16));
  fmt::print("held-out {} on {} scenes\n", detection::map_summary(s), held_out.count);
  return 0;
}

int predict_boxes(const std::vector<std::string>& args) {
  const SceneInference run(args, {"out", "threshold"}, 2);
  const float threshold = run.flags.positive_float("threshold", 0.5f);
  const Image image = run.image();
  const auto found = detection::detect(run.net, run.params, image.pixels.data(), 1, {.min_score = threshold});
  for (const metrics::Detection& d : found)
    fmt::print("{} {:.3f}: x {:.1f}..{:.1f}, y {:.1f}..{:.1f}\n", scenes::class_names[d.class_id], d.score,
               d.box.x0, d.box.x1, d.box.y0, d.box.y1);
  fmt::print("{} objects found (score >= {})\n", found.size(), threshold);
  if (!run.out.empty()) {
    save_png(run.out, detection::draw_detections(image, found));
    fmt::print("wrote the boxes over the image to {}\n", run.out);
  }
  return 0;
}

int eval_scenes(const std::vector<std::string>& args) {
  const SceneInference run(args, {"batch"}, 1);
  const scenes::SceneSet held_out = held_out_scenes(run.model.view, SceneSplit{});
  const metrics::ConfusionMatrix m =
      evaluate_segmentation(run.net, run.params, held_out, run.flags.positive_int("batch", 16));
  fmt::print("held-out {} on {} scenes\n", iou_summary(m), held_out.count);
  return 0;
}

int predict_scenes(const std::vector<std::string>& args) {
  const SceneInference run(args, {"out"}, 2);
  const Image image = run.image();
  const std::vector<uint8_t> classes = predict_classes(run.net, run.params, image.pixels.data(), 1);
  std::vector<long> pixels(1 + scenes::class_count, 0);
  for (uint8_t k : classes) ++pixels[k];
  for (std::size_t k = 0; k < pixels.size(); ++k)
    fmt::print("{}: {:.2f} % of the pixels\n", segmentation_class_name(int(k)),
               100.0 * pixels[k] / double(classes.size()));
  if (!run.out.empty()) {
    save_png(run.out, overlay_classes(image, classes));
    fmt::print("wrote the classes over the image to {}\n", run.out);
  }
  return 0;
}

int scenes_command(const std::vector<std::string>& args) {
  const Flags flags(args, {"count", "size", "first", "seed", "out", "objects"}, 0);
  const SceneSplit split;
  const int count = flags.positive_int("count", 4), size = flags.positive_int("size", 128);
  // By default the held-out scenes: what the models were never trained on.
  const int first = flags.non_negative_int("first", split.train_scenes);
  const std::string dir = flags.required("out");
  // --objects 1: the single-object scenes of the localizers.
  const scenes::SceneSet set = scenes::make_scenes(count, size, flags.seed("seed", split.seed), first,
                                                   flags.positive_int("objects", scenes::max_objects));
  for (int i = 0; i < count; ++i) {
    const std::string stem = fmt::format("{}/scene_{}", dir, first + i);
    check_writable(stem + ".png");
    Image image{3, size, size, std::vector<float>(set.image(i), set.image(i) + set.image_size())};
    save_png(stem + ".png", image);
    const uint8_t* mask = set.semantic_mask(i);
    save_png(stem + "_classes.png", overlay_classes(image, std::vector<uint8_t>(mask, mask + set.mask_size())));
    std::string objects;
    for (const scenes::SceneObject& o : set.objects[i])
      objects += fmt::format("; {} in x {:g}..{:g}, y {:g}..{:g}", scenes::class_names[o.class_id],
                             o.box.x0, o.box.x1, o.box.y0, o.box.y1);
    fmt::print("{}.png (and {}_classes.png, the true classes){}\n", stem, stem, objects);
  }
  return 0;
}

int predict_windows(const std::vector<std::string>& args) {
  const SceneInference run(args, {"out", "threshold"}, 2);
  const float threshold = run.flags.positive_float("threshold", 0.5f);
  const Image image = run.image();
  const ModelView& view = run.model.view;
  const Shape in = view.input_shape(), map = view.output_shape();
  // Output cell (i, j) scores the window at (stride j, stride i) of the size the
  // classifier was trained on: the strides of the layers multiplied.
  int stride = 1;
  for (const Node& n : view.nodes) stride *= n.stride_w;
  const int window = in.width() - (map.width() - 1) * stride;
  std::vector<float> scores(run.net.output_size());
  run.net.forward(run.params.data(), run.params.buffers(), image.pixels.data(), 1, scores.data());
  const int K = map.channels(), cells = map.height() * map.width();
  Image annotated = image;
  int found = 0;
  for (int cell = 0; cell < cells; ++cell) {
    std::vector<float> p(K);
    for (int k = 0; k < K; ++k) p[k] = scores[std::size_t(k) * cells + cell];
    softmax_rows(p.data(), 1, K);
    const int best = int(std::max_element(p.begin(), p.end()) - p.begin());
    if (best == 0 || p[best] < threshold) continue;
    const int x = cell % map.width() * stride, y = cell / map.width() * stride;
    fmt::print("{} {:.3f}: window at x {}, y {} ({} x {} px)\n", segmentation_class_name(best), p[best],
               x, y, window, window);
    ++found;
    // A dot of the class's colour at the window's centre.
    const int cx = x + window / 2, cy = y + window / 2;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        for (int c = 0; c < 3; ++c) annotated.at(c, cy + dy, cx + dx) = class_tint(best)[c];
  }
  fmt::print("{} of {} windows hold a shape (probability >= {})\n", found, cells, threshold);
  if (!run.out.empty()) {
    save_png(run.out, annotated);
    fmt::print("wrote the windows' centres over the image to {}\n", run.out);
  }
  return 0;
}

}  // namespace kiln::cli
