#include "runtime/segmentation.hpp"

#include "runtime/error.hpp"

#include <fmt/format.h>


namespace kiln {

namespace {
constexpr int classes = 1 + scenes::class_count;
// Tints of the classes in overlays, background (unused) first.
constexpr float tints[classes][3] = {
    {0, 0, 0}, {1.0f, 0.2f, 0.2f}, {0.2f, 1.0f, 0.2f}, {0.25f, 0.45f, 1.0f}};
}  // namespace

const float* class_tint(int k) { return tints[k]; }

std::string_view segmentation_class_name(int k) {
  return k == 0 ? std::string_view("background") : scenes::class_names[k - 1];
}

int segmentation_size(const ModelView& model) {
  const Shape in = model.input_shape(), out = model.output_shape();
  if (!in.is_image() || in.channels() != 3 || in.height() != in.width() || !out.is_image() ||
      out != shape(classes, in.height(), in.width()))
    fail("{} is not a scene segmentation model (3 x S x S images in, ({}, S, S) per-pixel logits out)",
         model.name, classes);
  return in.height();
}

scenes::SceneSet held_out_scenes(const ModelView& model, const SceneSplit& split) {
  return scenes::make_scenes(split.held_out, segmentation_size(model), split.seed, split.train_scenes);
}

std::string iou_summary(const metrics::ConfusionMatrix& m) {
  const std::vector<double> iou = m.iou();
  std::string line = fmt::format("mean IoU {:.4f} (", m.mean_iou());
  for (int k = 0; k < m.classes(); ++k)
    line += fmt::format("{}{} {:.4f}", k ? ", " : "", segmentation_class_name(k), iou[k]);
  return line + fmt::format("), pixel accuracy {:.2f} %", 100 * m.pixel_accuracy());
}

Image overlay_classes(const Image& image, const std::vector<uint8_t>& classes_of) {
  Image out = image;
  const int W = image.width, H = image.height;
  auto at = [&](int y, int x) { return classes_of[std::size_t(y) * W + x]; };
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const int k = at(y, x);
      const bool edge = (x + 1 < W && at(y, x + 1) != k) || (y + 1 < H && at(y + 1, x) != k);
      for (int c = 0; c < 3; ++c) {
        float& v = out.at(c, y, x);
        if (edge) v = 1.0f;
        else if (k > 0) v = 0.5f * v + 0.5f * tints[k][c];
      }
    }
  return out;
}

}  // namespace kiln
