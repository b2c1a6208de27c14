// The two-stage detector's training samples: where its regions come from (the true
// boxes, jittered copies, negatives away from every box) and the targets each gets.
#include "runtime/two_stage.hpp"

#include "dsl/model_view.hpp"
#include "models/frcnn.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace kiln;

TEST_CASE("two-stage training samples: regions and their targets", "[two_stage]") {
  const two_stage::Layout l = two_stage::layout_of(view_of<models::frcnn_shapes>());
  REQUIRE(l.size == 128);
  REQUIRE(l.regions == 24);
  REQUIRE(l.rpn.grid == 16);
  const std::size_t F = l.output_floats();
  const scenes::SceneSet set = scenes::make_scenes(6, 128, 4, 0);
  SplitMix64 rng(9);
  for (int i = 0; i < set.count; ++i) {
    INFO("scene " << i);
    std::vector<float> rois(l.regions * 4), t(2 * F, NAN);
    two_stage::training_sample(l, set, i, rng, rois.data(), t.data());
    const auto& objects = set.objects[i];
    int positives = 0;
    for (int r = 0; r < l.regions; ++r) {
      INFO("region " << r);
      const metrics::Box roi{rois[4 * r], rois[4 * r + 1], rois[4 * r + 2], rois[4 * r + 3]};
      const float* value = t.data() + l.rpn_floats() + std::size_t(r) * two_stage::box_numbers;
      const float* weight = value + F;
      // The first regions are the true boxes themselves, in order.
      if (r < int(objects.size())) {
        CHECK(roi.x0 == objects[r].box.x0);
        CHECK(roi.y1 == objects[r].box.y1);
      }
      int best = -1;
      float best_iou = 0;
      for (std::size_t k = 0; k < objects.size(); ++k)
        if (metrics::iou(roi, objects[k].box) > best_iou) best_iou = metrics::iou(roi, objects[k].box), best = int(k);
      const bool positive = value[0] + value[1] + value[2] == 1.0f;
      positives += positive;
      if (positive) {  // a region of an object: its class and deltas, and a mask
        CHECK(best_iou >= 0.6f);
        CHECK(value[objects[best].class_id] == 1.0f);
        CHECK(weight[3] == 1.0f);
        const anchors::Delta d = anchors::encode(roi, objects[best].box, two_stage::box_weights);
        CHECK(value[3] == Approx(d.dx).margin(1e-5));
        CHECK(value[6] == Approx(d.dh).margin(1e-5));
      } else {  // background: class scores 0 and nothing else trained
        CHECK(best_iou < 0.4f);
        CHECK(weight[0] == 1.0f);
        CHECK(weight[3] == 0.0f);
      }
    }
    CHECK(positives >= int(objects.size()));
    CHECK(positives <= l.regions / 2);
    // The first region is the first object's box: its mask is the object's instance
    // pixels at the bins' centres, some of them; all of them only for a square.
    const float* mask = t.data() + l.rpn_floats() + l.box_floats();
    double covered = 0;
    for (int b = 0; b < two_stage::mask_side * two_stage::mask_side; ++b) covered += mask[b];
    CHECK(covered > 0);
    if (objects[0].class_id != 1) CHECK(covered < two_stage::mask_side * two_stage::mask_side);
  }
}
