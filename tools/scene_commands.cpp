// kiln train / eval / predict for the models of the procedural scenes (runtime/scenes.hpp,
// made on the fly): segmentation (recipe data set "scenes") and detection ("scene_boxes").
#include "runtime/detection.hpp"
#include "runtime/error.hpp"
#include "runtime/files.hpp"
#include "runtime/image.hpp"
#include "runtime/registry.hpp"
#include "runtime/segmentation.hpp"
#include "runtime/trainer.hpp"
#include "tools/commands.hpp"
#include "tools/flags.hpp"

#include <fmt/format.h>

namespace kiln::cli {

int train_scenes(const std::vector<std::string>& args) {
  const Flags flags(args, with_training_flags({"out", "target"}), 1);
  const RegisteredModel& model = model_argument(flags);
  const StepLoop loop = training_flags(flags, model.recipe);
  const std::string out = flags.text("out", std::string(model.name) + ".safetensors");
  check_writable(out);
  const std::string target = flags.text("target", "cpu");
  const Network net(model, target);
  model.entry("train_step", target);
  const int size = segmentation_size(model.view);
  const SceneSplit split;
  Parameters params(model.view);
  params.initialize(loop.seed);
  fmt::print("training {} on scenes of {} x {} (made on the fly; {} held out): {} epochs of {} "
             "scenes, batch {}, {} lr {} ({}){}\n",
             model.name, size, size, split.held_out, loop.epochs, split.epoch_scenes, loop.batch,
             optimizer_name(loop.hyper.optimizer), loop.hyper.learning_rate,
             flags.text("lr-schedule", model.recipe.lr_schedule),
             loop.minutes > 0 ? fmt::format(", at most {} minutes", loop.minutes) : "");
  const auto results = train_segmentation(net, params, split, loop, stdout);
  if (results.empty()) fail("no training step ran (--minutes too small?)");
  const SegmentationEpoch& last = results.back();
  params.save(out, {{"model", std::string(model.name)},
                    {"epochs", std::to_string(last.stats.epoch)},
                    {"held_out_mean_iou", fmt::format("{:.4f}", last.mean_iou)}});
  fmt::print("held-out mean IoU {:.4f} on {} scenes after {:.0f} s of training; weights saved to {}\n",
             last.mean_iou, split.held_out, last.stats.total_seconds, out);
  return 0;
}

int train_boxes(const std::vector<std::string>& args) {
  const Flags flags(args, with_training_flags({"out", "target"}), 1);
  const RegisteredModel& model = model_argument(flags);
  const StepLoop loop = training_flags(flags, model.recipe);
  const std::string out = flags.text("out", std::string(model.name) + ".safetensors");
  check_writable(out);
  const std::string target = flags.text("target", "cpu");
  const Network net(model, target);
  model.entry("train_step", target);
  const detection::Layout layout = detection::layout_of(model.view);
  const SceneSplit split;
  Parameters params(model.view);
  params.initialize(loop.seed);
  fmt::print("training {} on scenes of {} x {} with their boxes (made on the fly; {} held out), "
             "{} x {} cells of {} anchors: {} epochs of {} scenes, batch {}, {} lr {} ({}){}\n",
             model.name, layout.size, layout.size, split.held_out, layout.grid, layout.grid,
             layout.anchors, loop.epochs, split.epoch_scenes, loop.batch,
             optimizer_name(loop.hyper.optimizer), loop.hyper.learning_rate,
             flags.text("lr-schedule", model.recipe.lr_schedule),
             loop.minutes > 0 ? fmt::format(", at most {} minutes", loop.minutes) : "");
  const auto results = detection::train_detection(net, params, split, loop, stdout);
  if (results.empty()) fail("no training step ran (--minutes too small?)");
  const detection::DetectionEpoch& last = results.back();
  params.save(out, {{"model", std::string(model.name)},
                    {"epochs", std::to_string(last.stats.epoch)},
                    {"held_out_map_50", fmt::format("{:.4f}", last.scores.map_50.mean)}});
  fmt::print("held-out mAP@0.5 {:.4f} on {} scenes after {:.0f} s of training; weights saved to {}\n",
             last.scores.map_50.mean, split.held_out, last.stats.total_seconds, out);
  return 0;
}

int eval_boxes(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "target", "batch"}, 1);
  const RegisteredModel& model = model_argument(flags);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  const Network net(model, flags.text("target", "cpu"));
  const SceneSplit split;
  const scenes::SceneSet held_out =
      scenes::make_scenes(split.held_out, detection::layout_of(model.view).size, split.seed, split.train_scenes);
  const detection::DetectionScores s =
      detection::evaluate_detection(net, params, held_out, flags.positive_int("batch", 16));
  fmt::print("held-out {} on {} scenes\n", detection::map_summary(s), held_out.count);
  return 0;
}

int predict_boxes(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "target", "out", "threshold"}, 2);
  const RegisteredModel& model = model_argument(flags);
  const std::string path = image_argument(flags), out = flags.text("out", "");
  const float threshold = flags.positive_float("threshold", 0.5f);
  if (!out.empty()) check_writable(out);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  const Image image = model_image(model, path);
  const Network net(model, flags.text("target", "cpu"));
  const auto found = detection::detect(net, params, image.pixels.data(), 1, {.min_score = threshold});
  for (const metrics::Detection& d : found)
    fmt::print("{} {:.3f}: x {:.1f}..{:.1f}, y {:.1f}..{:.1f}\n", scenes::class_names[d.class_id], d.score,
               d.box.x0, d.box.x1, d.box.y0, d.box.y1);
  fmt::print("{} objects found (score >= {})\n", found.size(), threshold);
  if (!out.empty()) {
    save_png(out, detection::draw_detections(image, found));
    fmt::print("wrote the boxes over the image to {}\n", out);
  }
  return 0;
}

int eval_scenes(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "target", "batch"}, 1);
  const RegisteredModel& model = model_argument(flags);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  const Network net(model, flags.text("target", "cpu"));
  const SceneSplit split;
  const scenes::SceneSet held_out = held_out_scenes(model.view, split);
  const metrics::ConfusionMatrix m =
      evaluate_segmentation(net, params, held_out, flags.positive_int("batch", 16));
  fmt::print("held-out {} on {} scenes\n", iou_summary(m), held_out.count);
  return 0;
}

int predict_scenes(const std::vector<std::string>& args) {
  const Flags flags(args, {"weights", "target", "out"}, 2);
  const RegisteredModel& model = model_argument(flags);
  const std::string path = image_argument(flags);
  const std::string out = flags.text("out", "");
  if (!out.empty()) check_writable(out);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  const Image image = model_image(model, path);
  const Network net(model, flags.text("target", "cpu"));
  const std::vector<uint8_t> classes = predict_classes(net, params, image.pixels.data(), 1);
  std::vector<long> pixels(1 + scenes::class_count, 0);
  for (uint8_t k : classes) ++pixels[k];
  for (std::size_t k = 0; k < pixels.size(); ++k)
    fmt::print("{}: {:.2f} % of the pixels\n", segmentation_class_name(int(k)),
               100.0 * pixels[k] / double(classes.size()));
  if (!out.empty()) {
    save_png(out, overlay_classes(image, classes));
    fmt::print("wrote the classes over the image to {}\n", out);
  }
  return 0;
}

int scenes_command(const std::vector<std::string>& args) {
  const Flags flags(args, {"count", "size", "first", "seed", "out"}, 0);
  const SceneSplit split;
  const int count = flags.positive_int("count", 4), size = flags.positive_int("size", 128);
  // By default the held-out scenes: what the models were never trained on.
  const int first = flags.non_negative_int("first", split.train_scenes);
  const std::string dir = flags.required("out");
  const scenes::SceneSet set = scenes::make_scenes(count, size, flags.seed("seed", split.seed), first);
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
  const Flags flags(args, {"weights", "target", "out", "threshold"}, 2);
  const RegisteredModel& model = model_argument(flags);
  const std::string path = image_argument(flags), out = flags.text("out", "");
  const float threshold = flags.positive_float("threshold", 0.5f);
  if (!out.empty()) check_writable(out);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  const Image image = model_image(model, path);
  const Shape in = model.view.input_shape(), map = model.view.output_shape();
  // Output cell (i, j) scores the window at (stride j, stride i) of the size the
  // classifier was trained on: the strides of the layers multiplied.
  int stride = 1;
  for (const Node& n : model.view.nodes) stride *= n.stride_w;
  const int window = in.width() - (map.width() - 1) * stride;
  const Network net(model, flags.text("target", "cpu"));
  std::vector<float> scores(net.output_size());
  net.forward(params.data(), params.buffers(), image.pixels.data(), 1, scores.data());
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
  if (!out.empty()) {
    save_png(out, annotated);
    fmt::print("wrote the windows' centres over the image to {}\n", out);
  }
  return 0;
}

}  // namespace kiln::cli
