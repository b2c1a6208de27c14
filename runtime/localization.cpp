#include "runtime/localization.hpp"

#include "runtime/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace kiln::localization {

namespace {
constexpr int C = scenes::class_count;
}  // namespace

int image_size(const ModelView& model) {
  const Shape in = model.input_shape(), out = model.output_shape();
  if (!in.is_image() || in.channels() != 3 || in.height() != in.width() || out != shape(outputs))
    fail("{} is not a scene localizer (3 x S x S images in, {} numbers out)", model.name, outputs);
  return in.height();
}

void encode(const scenes::SceneObject& o, float* targets) {
  const metrics::Box& b = o.box;
  metrics::check_box(b, "localization targets");
  for (int k = 0; k < C; ++k) targets[k] = k == o.class_id ? 1.0f : 0.0f;
  const float corners[4] = {b.x0, b.y0, b.x1, b.y1};
  for (int k = 0; k < 4; ++k) targets[C + k] = corners[k] / box_unit;
  std::fill(targets + outputs, targets + 2 * outputs, 1.0f);
}

metrics::Detection decode(const float* out, int image) {
  const int best = int(std::max_element(out, out + C) - out);
  const metrics::Box box{out[C] * box_unit, out[C + 1] * box_unit, out[C + 2] * box_unit, out[C + 3] * box_unit};
  return {image, best, 1.0f / (1.0f + std::exp(-out[best])), box};
}

scenes::SceneSet held_out_objects(const SceneSplit& split, int size) {
  return scenes::make_scenes(split.held_out, size, split.seed, split.train_scenes, 1);
}

std::string summary(const Scores& s) {
  return fmt::format("localized {:.2f} % (class right and IoU >= 0.5), class accuracy {:.2f} %, mean box IoU {:.4f}",
                     100 * s.correct, 100 * s.class_accuracy, s.mean_iou);
}

}  // namespace kiln::localization
