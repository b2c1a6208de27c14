#include "runtime/detection.hpp"

#include "runtime/error.hpp"
#include "runtime/lettering.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace kiln::detection {

namespace {
constexpr int C = scenes::class_count;
// The IoU of two boxes of sides (w, h) and (a, a) with a common centre.
float shape_iou(float w, float h, float a) {
  const float inter = std::min(w, a) * std::min(h, a);
  return inter / (w * h + a * a - inter);
}
}  // namespace

Layout layout_of(const ModelView& model) {
  const Shape in = model.input_shape(), out = model.output_shape();
  if (!in.is_image() || in.channels() != 3 || in.height() != in.width() || !out.is_image() ||
      out.height() != out.width() || in.height() % out.height() != 0 ||
      out.channels() % Layout::per_anchor != 0)
    fail("{} is not a scene detector (3 x S x S images in, (B x {}, G, G) out with G dividing S)",
         model.name, Layout::per_anchor);
  Layout l;
  l.size = in.height();
  l.grid = out.height();
  l.stride = float(l.size) / float(l.grid);
  l.anchors = out.channels() / Layout::per_anchor;
  l.anchor_sizes = scenes::anchor_sizes(l.anchors);
  return l;
}

void encode_targets(const Layout& l, std::span<const scenes::SceneObject> objects, float* targets,
                    const LossWeights& w) {
  const std::size_t cells = l.cells(), plane = std::size_t(l.channels()) * cells;
  float* value = targets;
  float* weight = targets + plane;
  std::fill(value, value + 2 * plane, 0.0f);
  auto at = [&](int a, int channel, int i, int j) {
    return (std::size_t(a) * Layout::per_anchor + channel) * cells + std::size_t(i) * l.grid + j;
  };
  for (const scenes::SceneObject& o : objects) {
    const metrics::Box& b = o.box;
    metrics::check_box(b, "detection targets");
    if (o.class_id < 0 || o.class_id >= C)
      fail("detection targets: class {} is not one of 0..{}", o.class_id, C - 1);
  }
  // Every anchor is a negative, unless its box at its cell overlaps a true one well.
  for (int a = 0; a < l.anchors; ++a)
    for (int i = 0; i < l.grid; ++i)
      for (int j = 0; j < l.grid; ++j) {
        const float half = l.anchor_sizes[a] / 2, cx = (j + 0.5f) * l.stride, cy = (i + 0.5f) * l.stride;
        const metrics::Box anchor{cx - half, cy - half, cx + half, cy + half};
        bool ignored = false;
        for (const scenes::SceneObject& o : objects) ignored |= metrics::iou(anchor, o.box) > w.ignore_iou;
        weight[at(a, 4, i, j)] = ignored ? 0.0f : w.no_object;
      }
  // Then each box's responsible anchor (a later box in the same place takes it over).
  const float area = float(l.size) * float(l.size);
  for (const scenes::SceneObject& o : objects) {
    const metrics::Box& b = o.box;
    const float bw = b.x1 - b.x0, bh = b.y1 - b.y0, cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2;
    const int j = std::clamp(int(cx / l.stride), 0, l.grid - 1);
    const int i = std::clamp(int(cy / l.stride), 0, l.grid - 1);
    int best = 0;
    for (int a = 1; a < l.anchors; ++a)
      if (shape_iou(bw, bh, l.anchor_sizes[a]) > shape_iou(bw, bh, l.anchor_sizes[best])) best = a;
    const float box_weight = w.box * (2 - bw * bh / area);
    const float numbers[4] = {cx / l.stride - j, cy / l.stride - i,
                              std::log(bw / l.anchor_sizes[best]), std::log(bh / l.anchor_sizes[best])};
    for (int k = 0; k < 4; ++k) {
      value[at(best, k, i, j)] = numbers[k];
      weight[at(best, k, i, j)] = box_weight;
    }
    value[at(best, 4, i, j)] = 1;
    weight[at(best, 4, i, j)] = w.object;
    for (int k = 0; k < C; ++k) {
      value[at(best, 5 + k, i, j)] = k == o.class_id ? 1.0f : 0.0f;
      weight[at(best, 5 + k, i, j)] = w.classes;
    }
  }
}

std::vector<metrics::Detection> decode(const Layout& l, const float* head, int image,
                                       const DecodeSettings& s) {
  const std::size_t cells = l.cells();
  std::vector<metrics::Box> boxes;
  std::vector<float> scores;
  std::vector<int> classes;
  const float size = float(l.size);
  for (int a = 0; a < l.anchors; ++a)
    for (int i = 0; i < l.grid; ++i)
      for (int j = 0; j < l.grid; ++j) {
        auto number = [&](int channel) {
          return head[(std::size_t(a) * Layout::per_anchor + channel) * cells + std::size_t(i) * l.grid + j];
        };
        const float object = metrics::sigmoid(number(4));
        if (object < s.min_score) continue;  // every class scores less
        // e^tw clamped as torchvision clamps its box deltas: no box past 1000/16 anchors.
        const float limit = std::log(1000.0f / 16.0f);
        const float cx = (j + metrics::sigmoid(number(0))) * l.stride, cy = (i + metrics::sigmoid(number(1))) * l.stride;
        const float bw = l.anchor_sizes[a] * std::exp(std::min(number(2), limit));
        const float bh = l.anchor_sizes[a] * std::exp(std::min(number(3), limit));
        const metrics::Box box = metrics::clipped({cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2}, size);
        for (int k = 0; k < C; ++k) {
          const float score = object * metrics::sigmoid(number(5 + k));
          if (!(score >= s.min_score)) continue;  // NaN scores too: a diverged model finds nothing
          boxes.push_back(box);
          scores.push_back(score);
          classes.push_back(k);
        }
      }
  const std::vector<int> kept = metrics::nms_per_class(boxes, scores, classes, s.nms_iou);
  std::vector<metrics::Detection> out;
  for (std::size_t k = 0; k < kept.size() && int(k) < s.max_detections; ++k)
    out.push_back({image, classes[kept[k]], scores[kept[k]], boxes[kept[k]]});
  return out;
}

std::string map_summary(const DetectionScores& s) {
  std::string line = fmt::format("mAP@0.5 {:.4f} (", s.map_50.mean);
  for (int k = 0; k < C; ++k)
    line += fmt::format("{}{} {:.4f}", k ? ", " : "", scenes::class_names[k], s.map_50.per_class[k]);
  return line + fmt::format("), mAP@[.5:.95] {:.4f}", s.map_50_95.mean);
}

Image draw_detections(const Image& image, std::span<const metrics::Detection> detections) {
  Image out = image;
  // Worst first, so that the best boxes are drawn over the others.
  std::vector<metrics::Detection> order(detections.begin(), detections.end());
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.score < b.score; });
  for (const metrics::Detection& d : order) {
    const float* tint = class_tint(1 + d.class_id);
    const int x0 = int(d.box.x0), y0 = int(d.box.y0);
    const int x1 = std::max(x0, int(std::ceil(d.box.x1)) - 1), y1 = std::max(y0, int(std::ceil(d.box.y1)) - 1);
    auto paint = [&](int x, int y) {
      if (x < 0 || y < 0 || x >= out.width || y >= out.height) return;
      for (int c = 0; c < 3; ++c) out.at(c, y, x) = d.score * tint[c] + (1 - d.score) * out.at(c, y, x);
    };
    for (int t = 0; t < 2; ++t) {
      for (int x = x0; x <= x1; ++x) {
        paint(x, y0 + t);
        paint(x, y1 - t);
      }
      for (int y = y0; y <= y1; ++y) {
        paint(x0 + t, y);
        paint(x1 - t, y);
      }
    }
    // The label: above the box where it fits, else over its top edge; inside the image.
    const std::string text = fmt::format("{} {:.2f}", scenes::class_names[std::size_t(d.class_id)], d.score);
    const int lx = std::max(0, std::min(x0, out.width - lettering::label_width(text)));
    const int ly = y0 >= lettering::label_height ? y0 - lettering::label_height : std::max(0, y0);
    constexpr float black[3] = {0, 0, 0};
    lettering::draw_label(out, lx, ly, text, tint, black);
  }
  return out;
}

}  // namespace kiln::detection
