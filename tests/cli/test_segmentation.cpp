// kiln train / eval / predict on the FCN of the procedural scenes: a few seconds of
// training write weights whose held-out mean IoU eval reproduces; predict prints the
// class fractions of one scene and writes its overlay; bad images are one-line errors.
#include "cli/support.hpp"

#include "runtime/image.hpp"
#include "runtime/scenes.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

namespace {
using namespace kiln::test;

double mean_iou(const std::string& out) { return number_after(out, "mean IoU "); }

// Scene `index` of the scene set as a PNG (its pixels round to 8 bits).
void save_scene(const std::string& path, int index, int size = 128) {
  const kiln::scenes::SceneSet set = kiln::scenes::make_scenes(1, size, 7, index);
  kiln::Image image{3, size, size, set.images};
  kiln::save_png(path, image);
}

}  // namespace

TEST_CASE("kiln train fcn-shapes, then eval and predict with its weights", "[cli][segmentation]") {
  ScratchDir dir;
  const std::string weights = dir.path("fcn.safetensors"), scene = dir.path("scene.png"),
                    overlay = dir.path("overlay.png");
  const KilnRun trained = expect_success({"train", "fcn-shapes", "--epochs", "1", "--batch", "4",
                                          "--minutes", "0.05", "--out", weights});
  INFO(trained.out);
  const double trained_iou = mean_iou(trained.out);
  CHECK(trained_iou > 0.0);
  CHECK(trained_iou <= 1.0);
  const KilnRun evaluated = expect_success({"eval", "fcn-shapes", "--weights", weights});
  INFO(evaluated.out);
  CHECK(std::abs(mean_iou(evaluated.out) - trained_iou) < 1e-4);
  CHECK(contains(evaluated.out, "triangle"));

  // kiln scenes writes held-out scenes (scene 100,000 on) with their true classes.
  const KilnRun made = expect_success({"scenes", "--count", "2", "--out", dir.path("")});
  INFO(made.out);
  CHECK(contains(made.out, "scene_100000.png"));
  CHECK(contains(made.out, "scene_100001.png"));
  for (const char* name : {"scene_100000.png", "scene_100000_classes.png", "scene_100001.png"}) {
    const kiln::Image written = kiln::load_png(dir.path(name));
    CHECK(written.width == 128);
    CHECK(written.channels == 3);
  }
  // The PNG holds the scene to 8 bits: the generator's own pixels, rounded.
  const kiln::scenes::SceneSet held = kiln::scenes::make_scenes(1, 128, 0, 100000);
  const kiln::Image first = kiln::load_png(dir.path("scene_100000.png"));
  REQUIRE(first.pixels.size() == held.images.size());
  std::size_t off = 0;
  for (std::size_t k = 0; k < first.pixels.size(); ++k) off += std::abs(first.pixels[k] - held.images[k]) > 0.5f / 255 + 1e-6f;
  CHECK(off == 0);
  expect_failure(dir, {"scenes", "--size", "16", "--out", dir.path("")}, {"16", "32"});
  expect_failure(dir, {"scenes", "--out", dir.path("missing/place")}, {"missing"});

  save_scene(scene, 3);
  const KilnRun predicted = expect_success({"predict", "fcn-shapes", "--weights", weights, scene, "--out", overlay});
  INFO(predicted.out);
  double total = 0;
  for (const char* name : {"background: ", "circle: ", "square: ", "triangle: "}) {
    const std::size_t at = predicted.out.find(name);
    REQUIRE(at != std::string::npos);
    total += std::stod(predicted.out.substr(at + std::strlen(name)));
  }
  CHECK(std::abs(total - 100.0) < 0.05);
  const kiln::Image written = kiln::load_png(overlay);
  CHECK(written.channels == 3);
  CHECK(written.width == 128);
  CHECK(written.height == 128);

  // Bad images: the wrong size, the wrong channel count, not a PNG; nothing written.
  const std::string small = dir.path("small.png"), gray = dir.path("gray.png"), junk = dir.path("junk.png");
  save_scene(small, 0, 64);
  kiln::save_png(gray, kiln::Image{1, 128, 128, std::vector<float>(128 * 128, 0.5f)});
  write_bytes(junk, "not a png at all");
  const std::string out = dir.path("out.png");
  expect_failure(dir, {"predict", "fcn-shapes", "--weights", weights, small, "--out", out},
                 {"small.png", "64 x 64", "128 x 128"}, out);
  expect_failure(dir, {"predict", "fcn-shapes", "--weights", weights, gray, "--out", out},
                 {"gray.png", "1 channel"}, out);
  expect_failure(dir, {"predict", "fcn-shapes", "--weights", weights, junk, "--out", out}, {"junk.png"}, out);
  expect_failure(dir, {"predict", "fcn-shapes", "--weights", dir.path("missing.safetensors"), scene,
                       "--out", out}, {"missing.safetensors"}, out);
  // LeNet-5's weights are not the FCN's.
  const std::string lenet = dir.path("lenet5.safetensors");
  save_weights(lenet, random_weights(1));
  expect_failure(dir, {"eval", "fcn-shapes", "--weights", lenet}, {"lenet5.safetensors"});
}
