// Single-shot detection's pieces against hand-worked cases: the head's layout, the
// targets of one box, decoding a head that says exactly the targets back into the boxes
// (and mAP 1 for them), bad boxes, the drawing of boxes; and the same for classification
// with localization of one object.
#include "runtime/detection.hpp"
#include "runtime/localization.hpp"
#include "runtime/error.hpp"
#include "runtime/lettering.hpp"

#include "dsl/model_view.hpp"

#include <catch2/catch.hpp>

#include <cmath>

namespace {
using namespace kiln;
using detection::Layout;

inline constexpr auto detector = checked<model("detector", input(3, 64, 64),
    conv2d(8, 3, stride(8), pad(1)), conv2d(16, 1),  // 2 anchors x 8 on an 8 x 8 grid
    target_loss({LossKind::logistic}))>;
inline constexpr auto classifier = checked<model("classifier", input(3, 64, 64),
    conv2d(8, 3, stride(8), pad(1)), flatten, dense(3), softmax_cross_entropy)>;

scenes::SceneObject object(int class_id, metrics::Box box) {
  scenes::SceneObject o;
  o.class_id = class_id;
  o.box = box;
  return o;
}

float logit(float p) { return std::log(p / (1 - p)); }
}  // namespace

TEST_CASE("detection layout: grid, stride and anchors from the model's shapes", "[detection]") {
  const Layout l = detection::layout_of(view_of<detector>());
  CHECK(l.size == 64);
  CHECK(l.grid == 8);
  CHECK(l.stride == 8.0f);
  REQUIRE(l.anchors == 2);
  // Two sides spaced in log scale over 8..64: 8 * 8^(1/4), 8 * 8^(3/4).
  CHECK(l.anchor_sizes[0] == Approx(13.4543f));
  CHECK(l.anchor_sizes[1] == Approx(38.0546f));
  CHECK_THROWS_WITH(detection::layout_of(view_of<classifier>()),
                    Catch::Contains("classifier is not a scene detector"));
}

TEST_CASE("detection targets: one box, worked by hand", "[detection]") {
  const Layout l = detection::layout_of(view_of<detector>());
  const std::size_t cells = l.cells(), plane = std::size_t(l.channels()) * cells;
  std::vector<float> t(2 * plane, NAN);
  // A 20 x 16 square (class 1) centred at (30, 44): cell (i 5, j 3), offsets 0.75, 0.5.
  // Shape IoU with anchor 0 (13.45): 181.0 / (320 + 181.0 - 181.0) = 0.566; with anchor 1
  // (38.05): 320 / 1448.2 = 0.221. Anchor 0 is responsible.
  const scenes::SceneObject o = object(1, {20, 36, 40, 52});
  detection::encode_targets(l, std::span(&o, 1), t.data());
  auto at = [&](int a, int channel, int i, int j) {
    return (std::size_t(a) * Layout::per_anchor + channel) * cells + std::size_t(i) * l.grid + j;
  };
  const float box_weight = 2 - 320.0f / (64 * 64);
  const float want[8] = {0.75f, 0.5f, std::log(20 / 13.4543f), std::log(16 / 13.4543f), 1, 0, 1, 0};
  for (int k = 0; k < 8; ++k) {
    INFO("channel " << k);
    CHECK(t[at(0, k, 5, 3)] == Approx(want[k]).margin(1e-5));
    CHECK(t[plane + at(0, k, 5, 3)] == Approx(k < 4 ? box_weight : 1.0f));
  }
  // Everything else: value 0; weight 0 but for objectness, which is 1 (a negative)
  // unless the anchor at its cell centre overlaps the box by IoU > 0.5. Anchor 0 at
  // cell (5, 4), centre (36, 44): IoU 0.386; none but the responsible one is ignored.
  int weighted = 0;
  for (std::size_t k = 0; k < plane; ++k) {
    if (k / cells % Layout::per_anchor == 4 || (k % cells == 5 * 8 + 3 && k / cells < 8)) {
      weighted += t[plane + k] > 0;
      continue;
    }
    CHECK(t[k] == 0.0f);
    CHECK(t[plane + k] == 0.0f);
  }
  CHECK(weighted == 2 * 64 + 7);  // every objectness, and the responsible anchor's other 7

  // A box whose anchor at a neighbouring cell overlaps it by more than 0.5: that
  // negative is ignored (weight 0). A 14 x 14 box centred at (32, 32), on a cell corner:
  // cell (4, 4) is responsible (anchor 0); anchor 0 at cell (3, 3), centre (28, 28):
  // IoU (10 x 10 + ...) = 100 / (196 + 181 - 100) = 0.361: not ignored.
  const scenes::SceneObject centred = object(0, {25, 25, 39, 39});
  detection::encode_targets(l, std::span(&centred, 1), t.data());
  CHECK(t[at(0, 4, 4, 4)] == 1.0f);
  CHECK(t[plane + at(0, 4, 3, 3)] == 1.0f);
  // A 40 x 40 box centred at (32, 32): cell (4, 4), anchor 1 (shape IoU 1448 / 1600).
  // Anchor 1 at cell (4, 3), centre (28, 36), spans x 8.97..47.03, y 16.97..55.03: it
  // meets the box over 35.03 x 35.03 = 1227, union 1600 + 1448 - 1227: IoU 0.674 > 0.5,
  // so its objectness is trained neither way. Anchor 0 there: 181 / 1600, a negative.
  const scenes::SceneObject larger = object(0, {12, 12, 52, 52});
  detection::encode_targets(l, std::span(&larger, 1), t.data());
  CHECK(t[at(1, 4, 4, 4)] == 1.0f);  // the responsible one
  CHECK(t[plane + at(1, 4, 4, 4)] == 1.0f);
  CHECK(t[plane + at(1, 4, 4, 3)] == 0.0f);
  CHECK(t[plane + at(0, 4, 4, 3)] == 1.0f);

  // No objects: every anchor a negative.
  detection::encode_targets(l, {}, t.data());
  for (std::size_t k = 0; k < plane; ++k) {
    CHECK(t[k] == 0.0f);
    CHECK(t[plane + k] == (k / cells % Layout::per_anchor == 4 ? 1.0f : 0.0f));
  }
}

TEST_CASE("detection: a head that says the targets decodes to the boxes, mAP 1", "[detection]") {
  const Layout l = detection::layout_of(view_of<detector>());
  const std::size_t cells = l.cells(), plane = std::size_t(l.channels()) * cells;
  const std::vector<scenes::SceneObject> objects = {object(0, {3, 5, 15, 19}), object(2, {30, 8, 62, 44}),
                                                    object(1, {40, 48, 50, 58})};
  std::vector<float> t(2 * plane), head(plane);
  detection::encode_targets(l, objects, t.data());
  for (std::size_t k = 0; k < plane; ++k) {
    const int channel = int(k / cells % Layout::per_anchor);
    const bool responsible = t[plane + k - (channel - 4) * cells] > 0 && t[k - (channel - 4) * cells] == 1;
    if (channel < 2) head[k] = responsible ? logit(t[k]) : 0;
    else if (channel < 4) head[k] = t[k];
    else head[k] = t[k] == 1 ? 12.0f : -12.0f;  // objectness and classes
  }
  const std::vector<metrics::Detection> found = detection::decode(l, head.data(), 7, {.min_score = 0.5f});
  REQUIRE(found.size() == objects.size());
  for (const scenes::SceneObject& o : objects) {
    int hits = 0;
    for (const metrics::Detection& d : found)
      if (d.class_id == o.class_id && metrics::iou(d.box, o.box) > 0.999f && d.image == 7 && d.score > 0.99f) ++hits;
    CHECK(hits == 1);
  }
  std::vector<metrics::GroundTruth> truths;
  for (const scenes::SceneObject& o : objects) truths.push_back({7, o.class_id, o.box});
  CHECK(metrics::box_map(found, truths, scenes::class_count).mean == Approx(1.0));
}

TEST_CASE("detection targets: a box that is not finite or has no area is an error", "[detection]") {
  const Layout l = detection::layout_of(view_of<detector>());
  std::vector<float> t(2 * std::size_t(l.channels()) * l.cells());
  const scenes::SceneObject nan_box = object(0, {NAN, 1, 5, 5}), flat_box = object(0, {4, 4, 4, 9}),
                            bad_class = object(3, {1, 1, 5, 5});
  CHECK_THROWS_WITH(detection::encode_targets(l, std::span(&nan_box, 1), t.data()), Catch::Contains("non-finite"));
  CHECK_THROWS_WITH(detection::encode_targets(l, std::span(&flat_box, 1), t.data()), Catch::Contains("no area"));
  CHECK_THROWS_WITH(detection::encode_targets(l, std::span(&bad_class, 1), t.data()), Catch::Contains("class 3"));
}

TEST_CASE("draw_detections outlines each box in its class's tint, two pixels wide, and labels it above",
          "[detection]") {
  Image image{3, 32, 32, std::vector<float>(3 * 32 * 32, 0.5f)};
  const metrics::Detection d{0, 1, 1.0f, {2, 12, 10, 21}};
  const Image out = detection::draw_detections(image, std::span(&d, 1));
  const float* tint = class_tint(2);
  // The label "square 1.00" (67 pixels wide) moves left to start inside the image, at x
  // 0, and sits on the 9 rows above the box, 3..11.
  const std::string label = "square 1.00";
  REQUIRE(lettering::label_width(label) == 67);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) {
      const bool in_label = y >= 3 && y <= 11;
      const int u = x - 1, v = y - 4;  // the glyph grid: a pixel of margin
      const bool ink = in_label && u >= 0 && lettering::inked(label[std::size_t(u / 6)], u % 6, v);
      const bool inside = x >= 2 && x <= 9 && y >= 12 && y <= 20;
      const bool outline = inside && (x < 4 || x > 7 || y < 14 || y > 18);
      for (int c = 0; c < 3; ++c) {
        INFO("x " << x << ", y " << y << ", c " << c);
        CHECK(out.at(c, y, x) == Approx(ink ? 0.0f : in_label || outline ? tint[c] : 0.5f));
      }
    }
  // A box at the top: its label over the box's top edge instead.
  const metrics::Detection top{0, 0, 1.0f, {20, 1, 30, 10}};
  const Image high = detection::draw_detections(image, std::span(&top, 1));
  CHECK(high.at(0, 1, 0) == Approx(class_tint(1)[0]));  // the label's margin, at y 1
  CHECK(high.at(0, 0, 0) == Approx(0.5f));
}

TEST_CASE("localization: targets of one object, worked by hand, and their decoding", "[detection]") {
  // A triangle (class 2) in x 12..36, y 20..30: one-hot class, corners in units of 8 px.
  scenes::SceneObject o = object(2, {12, 20, 36, 30});
  std::vector<float> t(2 * localization::outputs, NAN);
  localization::encode(o, t.data());
  const float want[] = {0, 0, 1, 1.5f, 2.5f, 4.5f, 3.75f};
  for (int k = 0; k < localization::outputs; ++k) {
    CHECK(t[k] == want[k]);
    CHECK(t[localization::outputs + k] == 1.0f);
  }
  // Outputs that say the targets in logits: class 2 at probability sigmoid(3), the box.
  const float out[] = {-2, 1, 3, 1.5f, 2.5f, 4.5f, 3.75f};
  const metrics::Detection d = localization::decode(out, 4);
  CHECK(d.image == 4);
  CHECK(d.class_id == 2);
  CHECK(d.score == Approx(1 / (1 + std::exp(-3.0))));
  CHECK(d.box.x0 == 12);
  CHECK(d.box.y0 == 20);
  CHECK(d.box.x1 == 36);
  CHECK(d.box.y1 == 30);
  o.box = {5, 5, 5, 9};
  CHECK_THROWS_WITH(localization::encode(o, t.data()), Catch::Contains("no area"));
  o.box = {5, 5, INFINITY, 9};
  CHECK_THROWS_WITH(localization::encode(o, t.data()), Catch::Contains("non-finite"));
  CHECK_THROWS_WITH(localization::image_size(view_of<detector>()), Catch::Contains("not a scene localizer"));
}

TEST_CASE("scenes capped at one object hold exactly one, unlike the default set", "[detection]") {
  const scenes::SceneSet single = scenes::make_scenes(40, 64, 3, 0, 1);
  for (const auto& objects : single.objects) CHECK(objects.size() == 1);
  const scenes::SceneSet many = scenes::make_scenes(40, 64, 3, 0);
  std::size_t most = 0;
  for (const auto& objects : many.objects) most = std::max(most, objects.size());
  CHECK(most > 1);
  CHECK_THROWS_WITH(scenes::make_scenes(1, 64, 3, 0, 6), Catch::Contains("6 objects at most"));
}
