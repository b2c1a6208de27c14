// The OverFeat-style pair: kiln train overfeat-shapes learns 32 x 32 windows, and its
// weights load into overfeat-scan, which scores every 32 x 32 window of a 128 x 128
// scene at a stride of 8 in one pass: each cell is the classifier's output for its
// window, and the windows it reports sit on the scene's shapes.
#include "cli/support.hpp"

#include "runtime/image.hpp"
#include "runtime/safetensors.hpp"
#include "runtime/scenes.hpp"

#include <catch2/catch.hpp>

#include <regex>

namespace {
using namespace kiln::test;
}  // namespace

TEST_CASE("overfeat-scan finds the shapes of a scene with the window classifier's weights", "[cli][overfeat]") {
  ScratchDir dir;
  const std::string weights = dir.path("overfeat.safetensors"), scene = dir.path("scene.png"),
                    marked = dir.path("marked.png");
  const KilnRun trained = expect_success({"train", "overfeat-shapes", "--epochs", "1", "--out", weights});
  INFO(trained.out);
  // One epoch of 20,000 windows: 99.35 % held out, measured 2026-11-28.
  const std::smatch m = [&] {
    std::smatch found;
    REQUIRE(std::regex_search(trained.out, found, std::regex(R"(test accuracy: (\d+\.\d\d) %)")));
    return found;
  }();
  CHECK(std::stod(m[1]) >= 95.0);

  // The scan's 13 x 13 cells against the classifier on each window, cut out of the scene.
  {
    const kiln::scenes::SceneSet set = kiln::scenes::make_scenes(1, 128, 11, 0);
    std::vector<float> windows(169 * 3 * 32 * 32);
    for (int cell = 0; cell < 169; ++cell)
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x)
            windows[((std::size_t(cell) * 3 + c) * 32 + y) * 32 + x] =
                set.images[(std::size_t(c) * 128 + cell / 13 * 8 + y) * 128 + cell % 13 * 8 + x];
    const std::string whole = dir.path("whole.safetensors"), cut = dir.path("windows.safetensors");
    kiln::save_safetensors(whole, {{"input", kiln::f32_tensor({1, 3, 128, 128}, set.images)}});
    kiln::save_safetensors(cut, {{"input", kiln::f32_tensor({169, 3, 32, 32}, windows)}});
    const std::string scan_out = dir.path("scan.safetensors"), window_out = dir.path("window_logits.safetensors");
    expect_success({"forward", "overfeat-scan", "--weights", weights, "--inputs", whole, "--out", scan_out});
    expect_success({"forward", "overfeat-shapes", "--weights", weights, "--inputs", cut, "--out", window_out});
    const std::vector<float> map = read_f32(scan_out, "output", {1, 4, 13, 13});
    const std::vector<float> each = read_f32(window_out, "output", {169, 4});
    double worst = 0, largest = 0;
    for (int cell = 0; cell < 169; ++cell)
      for (int k = 0; k < 4; ++k) {
        worst = std::max(worst, double(std::abs(map[std::size_t(k) * 169 + cell] - each[cell * 4 + k])));
        largest = std::max(largest, double(std::abs(each[cell * 4 + k])));
      }
    INFO("largest logit " << largest << ", largest difference " << worst);
    CHECK(worst <= 1e-4 * std::max(1.0, largest));
  }

  // Scenes with one shape only (the set's scene i, kept when it holds one), so that every
  // window reported must be on that shape, and of the sizes the windows were trained on
  // (one scale: a shape much larger than a window shows only parts of itself to each).
  int checked_scenes = 0;
  for (int index = 0; checked_scenes < 3 && index < 200; ++index) {
    const kiln::scenes::SceneSet set = kiln::scenes::make_scenes(1, 128, 11, index);
    if (set.objects[0].size() != 1) continue;
    const kiln::scenes::SceneObject& object = set.objects[0][0];
    const float width = object.box.x1 - object.box.x0, height = object.box.y1 - object.box.y0;
    if (std::min(width, height) < 12 || std::max(width, height) > 26) continue;
    ++checked_scenes;
    kiln::save_png(scene, kiln::Image{3, 128, 128, set.images});
    const KilnRun scanned = expect_success({"predict", "overfeat-scan", "--weights", weights, scene, "--out", marked});
    INFO("scene " << index << ", a " << kiln::scenes::class_names[object.class_id] << " in " << object.box.x0
                   << ".." << object.box.x1 << " x " << object.box.y0 << ".." << object.box.y1 << ": " << scanned.out);
    const std::regex window(R"((\w+) (\d\.\d+): window at x (\d+), y (\d+) \(32 x 32 px\))");
    int windows = 0, on_shape = 0, right_class = 0;
    for (auto it = std::sregex_iterator(scanned.out.begin(), scanned.out.end(), window);
         it != std::sregex_iterator(); ++it) {
      ++windows;
      const float cx = std::stof((*it)[3]) + 16, cy = std::stof((*it)[4]) + 16;
      const bool inside = cx >= object.box.x0 - 4 && cx <= object.box.x1 + 4 &&
                          cy >= object.box.y0 - 4 && cy <= object.box.y1 + 4;
      on_shape += inside;
      right_class += inside && (*it)[1] == std::string(kiln::scenes::class_names[object.class_id]);
    }
    CHECK(windows >= 1);
    CHECK(on_shape == windows);      // no window off the shape
    CHECK(right_class >= 1);         // and the shape named right at least once
    CHECK(kiln::load_png(marked).width == 128);
  }
  CHECK(checked_scenes == 3);

  // The scanner has no loss: nothing to train or score it on.
  expect_failure(dir, {"eval", "overfeat-scan", "--weights", weights}, {"overfeat_scan", "not a classifier"});
}
