// kiln train / eval / predict on the YOLO-style detector of the procedural scenes, and
// kiln gradients on its float targets: a few seconds of training write weights whose
// held-out mAP eval reproduces; predict lists boxes and draws them; bad images and bad
// targets are one-line errors that write nothing.
#include "cli/support.hpp"

#include "runtime/image.hpp"
#include "runtime/safetensors.hpp"
#include "runtime/scenes.hpp"

#include "dsl/model_view.hpp"
#include "models/heads.hpp"

#include <catch2/catch.hpp>

#include <cmath>

namespace {
using namespace kiln;
using namespace kiln::test;

double map_50(const std::string& out) { return number_after(out, "mAP@0.5 "); }

Tensor filled(std::vector<int64_t> shape, float value) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return f32_tensor(shape, std::vector<float>(std::size_t(n), value));
}

}  // namespace

TEST_CASE("kiln train yolo-shapes, then eval, predict and gradients with its weights", "[cli][detection]") {
  ScratchDir dir;
  const std::string weights = dir.path("yolo.safetensors"), scene = dir.path("scene.png"),
                    drawn = dir.path("drawn.png");
  const KilnRun trained = expect_success({"train", "yolo-shapes", "--epochs", "1", "--batch", "4",
                                          "--minutes", "0.05", "--out", weights});
  INFO(trained.out);
  const double trained_map = map_50(trained.out);
  CHECK(trained_map >= 0.0);
  CHECK(trained_map <= 1.0);
  const KilnRun evaluated = expect_success({"eval", "yolo-shapes", "--weights", weights});
  INFO(evaluated.out);
  CHECK(std::abs(map_50(evaluated.out) - trained_map) < 1e-4);
  CHECK(contains(evaluated.out, "mAP@[.5:.95]"));

  const scenes::SceneSet set = scenes::make_scenes(1, 128, 0, 100000);
  save_png(scene, Image{3, 128, 128, set.images});
  const KilnRun predicted = expect_success({"predict", "yolo-shapes", "--weights", weights, scene,
                                            "--threshold", "0.001", "--out", drawn});
  INFO(predicted.out);
  CHECK(contains(predicted.out, "objects found (score >= 0.001)"));
  const Image written = load_png(drawn);
  CHECK(written.channels == 3);
  CHECK(written.width == 128);
  CHECK(written.height == 128);

  // Bad images: the wrong size or channel count; nothing written.
  const std::string small = dir.path("small.png"), gray = dir.path("gray.png"), out = dir.path("out.png");
  save_png(small, Image{3, 64, 64, std::vector<float>(3 * 64 * 64, 0.5f)});
  save_png(gray, Image{1, 128, 128, std::vector<float>(128 * 128, 0.5f)});
  expect_failure(dir, {"predict", "yolo-shapes", "--weights", weights, small, "--out", out},
                 {"small.png", "64 x 64", "128 x 128"}, out);
  expect_failure(dir, {"predict", "yolo-shapes", "--weights", weights, gray, "--out", out},
                 {"gray.png", "1 channel"}, out);

  // kiln gradients takes the detector's float targets [N, 2, 24, 16, 16].
  const std::string inputs = dir.path("inputs.safetensors"), grads = dir.path("grads.safetensors");
  const Tensor images = filled({2, 3, 128, 128}, 0.25f);
  Tensor targets = filled({2, 2, 24, 16, 16}, 0.5f);
  save_safetensors(inputs, {{"input", images}, {"targets", targets}});
  const KilnRun computed = expect_success({"gradients", "yolo-shapes", "--weights", weights,
                                           "--inputs", inputs, "--out", grads});
  INFO(computed.out);
  CHECK(contains(computed.out, "14 parameter gradients"));
  const std::vector<std::string> command{"gradients", "yolo-shapes", "--weights", weights,
                                         "--inputs", inputs, "--out", out};
  auto fails_with = [&](const TensorMap& tensors, std::vector<std::string> mentions) {
    save_safetensors(inputs, tensors);
    mentions.push_back(inputs);
    expect_failure(dir, command, mentions, out);
  };
  fails_with({{"input", images}}, {"missing tensor 'targets'"});
  fails_with({{"input", images}, {"targets", filled({2, 24, 16, 16}, 0.5f)}}, {"targets", "shape"});
  std::vector<float> bad(2 * 2 * 24 * 16 * 16, 0.5f);
  bad[7] = NAN;
  fails_with({{"input", images}, {"targets", f32_tensor({2, 2, 24, 16, 16}, bad)}}, {"non-finite", "element 7"});
  bad[7] = 0.5f;
  bad[24 * 16 * 16 + 3] = -1;  // sample 0's weights plane
  fails_with({{"input", images}, {"targets", f32_tensor({2, 2, 24, 16, 16}, bad)}},
             {"negative weight", std::to_string(24 * 16 * 16 + 3)});
}

TEST_CASE("kiln train localizer-shapes, then eval and predict with its weights", "[cli][detection]") {
  ScratchDir dir;
  const std::string weights = dir.path("localizer.safetensors"), scene = dir.path("scene.png"),
                    drawn = dir.path("drawn.png");
  const KilnRun trained = expect_success({"train", "localizer-shapes", "--epochs", "1", "--batch", "8",
                                          "--minutes", "0.03", "--out", weights});
  INFO(trained.out);
  // The percentage after the first "held-out localized " (the epoch line, or eval's).
  auto localized = [](const std::string& out) { return number_after(out, "held-out localized ", true); };
  const double trained_score = localized(trained.out);
  CHECK(trained_score >= 0.0);
  CHECK(trained_score <= 100.0);
  CHECK(contains(trained.out, "held-out localized fraction"));
  const KilnRun evaluated = expect_success({"eval", "localizer-shapes", "--weights", weights});
  INFO(evaluated.out);
  CHECK(std::abs(localized(evaluated.out) - trained_score) < 1e-2);
  CHECK(contains(evaluated.out, "mean box IoU"));

  const scenes::SceneSet set = scenes::make_scenes(1, 64, 0, 100000, 1);
  save_png(scene, Image{3, 64, 64, set.images});
  const KilnRun predicted = expect_success({"predict", "localizer-shapes", "--weights", weights, scene, "--out", drawn});
  INFO(predicted.out);
  CHECK((contains(predicted.out, "circle") || contains(predicted.out, "square") || contains(predicted.out, "triangle")));
  CHECK(load_png(drawn).width == 64);
  // A scene image of the detector's size is not the localizer's.
  const std::string big = dir.path("big.png"), out = dir.path("out.png");
  save_png(big, Image{3, 128, 128, std::vector<float>(3 * 128 * 128, 0.5f)});
  expect_failure(dir, {"predict", "localizer-shapes", "--weights", weights, big, "--out", out},
                 {"big.png", "128 x 128", "64 x 64"}, out);
}

TEST_CASE("kiln forward/gradients on a two-stage model take its regions; bad regions are errors", "[cli][detection]") {
  ScratchDir dir;
  const std::string weights = dir.path("two_stage.safetensors"), inputs = dir.path("inputs.safetensors"),
                    out = dir.path("out.safetensors");
  // Weights of 0.1 for every tensor of the model's table.
  TensorMap w;
  for (const Parameter& p : view_of<models::two_stage>().parameters) {
    std::vector<int64_t> shape(p.shape.dims, p.shape.dims + p.shape.rank);
    w[std::string(p.name.view())] = filled(shape, 0.1f);
  }
  save_safetensors(weights, w);
  const Tensor images = filled({2, 3, 16, 16}, 0.5f);
  std::vector<float> boxes(2 * 4 * 4);
  for (std::size_t k = 0; k < boxes.size(); ++k) boxes[k] = float(k % 4 < 2 ? 2 : 20);
  const Tensor targets = filled({2, 2, 5 * 16 * 16 + 4 * (7 + 3)}, 0.5f);
  save_safetensors(inputs, {{"input", images}, {"rois", f32_tensor({2, 4, 4}, boxes)}, {"targets", targets}});
  const KilnRun forward = expect_success({"forward", "two_stage", "--weights", weights, "--inputs", inputs, "--out", out});
  INFO(forward.out);
  CHECK(contains(forward.out, "[2, 1320]"));
  const KilnRun gradients = expect_success({"gradients", "two_stage", "--weights", weights, "--inputs", inputs, "--out", out});
  INFO(gradients.out);
  CHECK(contains(gradients.out, "10 parameter gradients"));

  const std::string bad = dir.path("bad.safetensors");
  auto fails_with = [&](const TensorMap& tensors, std::vector<std::string> mentions) {
    save_safetensors(inputs, tensors);
    mentions.push_back(inputs);
    for (const char* command : {"forward", "gradients"})
      expect_failure(dir, {command, "two_stage", "--weights", weights, "--inputs", inputs, "--out", bad}, mentions, bad);
  };
  fails_with({{"input", images}, {"targets", targets}}, {"missing tensor 'rois'"});
  fails_with({{"input", images}, {"rois", f32_tensor({2, 3, 4}, std::vector<float>(24, 1.0f))}, {"targets", targets}},
             {"rois", "shape"});
  fails_with({{"input", images}, {"rois", f32_tensor({2, 0, 4}, {})}, {"targets", targets}},  // an empty box list
             {"rois", "shape", "[2, 4, 4]"});
  boxes[5] = NAN;
  fails_with({{"input", images}, {"rois", f32_tensor({2, 4, 4}, boxes)}, {"targets", targets}},
             {"rois", "non-finite", "element 5"});
}

TEST_CASE("kiln train frcnn-shapes, then eval and predict with its weights", "[cli][detection]") {
  ScratchDir dir;
  const std::string weights = dir.path("frcnn.safetensors"), scene = dir.path("scene.png"),
                    drawn = dir.path("drawn.png");
  const KilnRun trained = expect_success({"train", "frcnn-shapes", "--epochs", "1", "--batch", "2",
                                          "--minutes", "0.02", "--out", weights});
  INFO(trained.out);
  const double box_map = number_after(trained.out, "box mAP@0.5 ", true);
  CHECK(box_map >= 0.0);
  CHECK(box_map <= 1.0);
  CHECK(contains(trained.out, "mask AP@0.5"));
  const KilnRun evaluated = expect_success({"eval", "frcnn-shapes", "--weights", weights});
  INFO(evaluated.out);
  const double mask_ap = number_after(evaluated.out, "mask AP@0.5 ");
  CHECK(mask_ap >= 0.0);
  CHECK(mask_ap <= 1.0);

  const scenes::SceneSet set = scenes::make_scenes(1, 128, 0, 100000);
  save_png(scene, Image{3, 128, 128, set.images});
  const KilnRun predicted = expect_success({"predict", "frcnn-shapes", "--weights", weights, scene,
                                            "--threshold", "0.01", "--out", drawn});
  INFO(predicted.out);
  CHECK(contains(predicted.out, "objects found (score >= 0.01)"));
  CHECK(load_png(drawn).width == 128);
  const std::string small = dir.path("small.png"), out = dir.path("out.png");
  save_png(small, Image{3, 64, 64, std::vector<float>(3 * 64 * 64, 0.5f)});
  expect_failure(dir, {"predict", "frcnn-shapes", "--weights", weights, small, "--out", out},
                 {"small.png", "64 x 64", "128 x 128"}, out);
}
