// The metrics against cases worked by hand: box IoU, NMS, the confusion matrix, AP of a
// small detection list at several thresholds, mask AP, and a perfect detector on scenes.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/metrics.hpp"
#include "runtime/scenes.hpp"
#include "support.hpp"

using namespace kiln::metrics;
using kiln::test::error_from;

TEST_CASE("box area and IoU", "[metrics]") {
  CHECK(area(Box{3, 5, 4, 6}) == 1);  // one pixel
  CHECK(area(Box{4, 0, 2, 5}) == 0);  // x1 < x0: empty
  // Overlapping: 2 x 2 in common, union 16 + 16 - 4.
  CHECK(iou({0, 0, 4, 4}, {2, 2, 6, 6}) == Approx(4.0 / 28));
  // Nested: the inner box's 2 x 5 = 10 over the outer's 100.
  CHECK(iou({0, 0, 10, 10}, {2, 2, 4, 7}) == Approx(0.1));
  CHECK(iou({0, 0, 10, 10}, {0, 0, 10, 10}) == 1);
  CHECK(iou({0, 0, 2, 2}, {5, 5, 7, 7}) == 0);  // disjoint
  CHECK(iou({0, 0, 2, 2}, {2, 0, 4, 2}) == 0);  // an edge in common
  CHECK(iou({0, 0, 2, 2}, {2, 2, 4, 4}) == 0);  // a corner in common
  CHECK(iou({1, 1, 1, 1}, {1, 1, 1, 1}) == 0);  // empty union
}

TEST_CASE("nms: greedy by score, threshold exclusive, ties by index", "[metrics]") {
  CHECK(nms({}, {}, 0.5f).empty());
  // Box 1 overlaps box 0 with IoU 81 / 119 = 0.68; box 3 is box 0 again; box 2 is apart.
  const std::vector<Box> boxes = {{0, 0, 10, 10}, {1, 1, 11, 11}, {20, 20, 30, 30}, {0, 0, 10, 10}};
  const std::vector<float> scores = {0.9f, 0.8f, 0.95f, 0.7f};
  CHECK(nms(boxes, scores, 0.5f) == std::vector<int>{2, 0});
  CHECK(nms(boxes, scores, 0.7f) == std::vector<int>{2, 0, 1});
  CHECK(nms(boxes, scores, 1.0f) == std::vector<int>{2, 0, 1, 3});  // IoU 1 is not > 1
  // All but the best suppressed.
  const std::vector<Box> copies(4, Box{5, 5, 9, 9});
  CHECK(nms(copies, std::vector<float>{0.1f, 0.4f, 0.3f, 0.2f}, 0.3f) == std::vector<int>{1});
  // Equal scores: the lower index is visited, and kept, first.
  CHECK(nms(copies, std::vector<float>{0.5f, 0.9f, 0.9f, 0.1f}, 0.3f) == std::vector<int>{1});
  const std::vector<Box> apart = {{0, 0, 1, 1}, {2, 0, 3, 1}, {4, 0, 5, 1}, {6, 0, 7, 1}};
  CHECK(nms(apart, std::vector<float>{0.5f, 0.7f, 0.7f, 0.9f}, 0.5f) ==
        std::vector<int>{3, 1, 2, 0});
  // IoU exactly at the threshold (8 / 16) does not suppress.
  const std::vector<Box> halves = {{0, 0, 4, 4}, {0, 0, 4, 2}};
  CHECK(nms(halves, std::vector<float>{0.9f, 0.8f}, 0.5f) == std::vector<int>{0, 1});
  CHECK(nms(halves, std::vector<float>{0.9f, 0.8f}, 0.49f) == std::vector<int>{0});
  CHECK(error_from([&] { nms(boxes, std::vector<float>{0.5f}, 0.5f); }) ==
        "nms: 4 boxes but 1 scores");
  CHECK(error_from([&] {
          nms(halves, std::vector<float>{0.5f, NAN}, 0.5f);
        }) == "nms: score 1 is NaN");
}

TEST_CASE("nms_per_class: other classes never suppress", "[metrics]") {
  const std::vector<Box> boxes(3, Box{0, 0, 10, 10});
  const std::vector<float> scores = {0.6f, 0.9f, 0.7f};
  CHECK(nms_per_class(boxes, scores, std::vector<int>{0, 1, 0}, 0.5f) == std::vector<int>{1, 2});
  CHECK(nms_per_class(boxes, scores, std::vector<int>{0, 1, 2}, 0.5f) == std::vector<int>{1, 2, 0});
  CHECK(nms_per_class(boxes, scores, std::vector<int>{4, 4, 4}, 0.5f) == std::vector<int>{1});
  CHECK(nms_per_class({}, {}, {}, 0.5f).empty());
  CHECK(error_from([&] { nms_per_class(boxes, scores, std::vector<int>{0}, 0.5f); }) ==
        "nms_per_class: 3 boxes but 1 class ids");
}

TEST_CASE("confusion matrix, IoU per class, mean IoU, pixel accuracy", "[metrics]") {
  // A 2 x 3 image, 4 classes (class 3 never occurs):
  //   truth      predicted    counts(truth, predicted): row 0: 1 1 0   row 1: 0 2 0
  //   0 0 1      0 1 1                                  row 2: 1 0 1   row 3: 0 0 0
  //   1 2 2      1 2 0
  // class 0: TP 1, FP 1 (the 2 predicted as 0), FN 1 (the 0 predicted as 1): IoU 1/3
  // class 1: TP 2, FP 1, FN 0: IoU 2/3;  class 2: TP 1, FP 0, FN 1: IoU 1/2
  // class 3: union 0, undefined.  Mean over 0..2: (1/3 + 2/3 + 1/2) / 3 = 1/2.
  // Pixel accuracy: 4 of 6.
  const std::vector<uint8_t> truth = {0, 0, 1, 1, 2, 2}, predicted = {0, 1, 1, 1, 2, 0};
  ConfusionMatrix matrix(4);
  matrix.add(predicted, truth);
  CHECK(matrix.total() == 6);
  CHECK((matrix.count(0, 0) == 1 && matrix.count(0, 1) == 1 && matrix.count(2, 0) == 1));
  CHECK((matrix.count(1, 1) == 2 && matrix.count(2, 2) == 1 && matrix.count(1, 0) == 0));
  const std::vector<double> iou = matrix.iou();
  CHECK(iou[0] == Approx(1.0 / 3));
  CHECK(iou[1] == Approx(2.0 / 3));
  CHECK(iou[2] == Approx(0.5));
  CHECK(std::isnan(iou[3]));
  CHECK(matrix.mean_iou() == Approx(0.5));
  CHECK(matrix.pixel_accuracy() == Approx(4.0 / 6));
  // Accumulating the same pixels again as int32 labels changes no ratio.
  const std::vector<int32_t> truth32(truth.begin(), truth.end());
  const std::vector<int32_t> predicted32(predicted.begin(), predicted.end());
  matrix.add(predicted32, truth32);
  CHECK(matrix.total() == 12);
  CHECK(matrix.mean_iou() == Approx(0.5));
  CHECK(std::isnan(ConfusionMatrix(2).mean_iou()));
  CHECK(std::isnan(ConfusionMatrix(2).pixel_accuracy()));
  CHECK(error_from([&] { matrix.add(std::span(predicted).first(5), truth); }) ==
        "confusion matrix: 5 predicted labels but 6 true ones");
  const std::vector<uint8_t> bad = {0, 0, 1, 4, 2, 2};
  CHECK(error_from([&] { matrix.add(bad, truth); }) ==
        "confusion matrix: label 4 (predicted) / 1 (true) at pixel 3 is outside 0..3");
  CHECK(error_from([] { ConfusionMatrix(0); }) == "confusion matrix: 0 classes; need at least 1");
}

TEST_CASE("average precision of a hit list: the all-point envelope", "[metrics]") {
  // Hits 1 0 1 0 1 of 3 truths: precision 1, 1/2, 2/3, 1/2, 3/5; envelope 1, 2/3, 2/3,
  // 3/5, 3/5; recall steps of 1/3 at the hits: (1 + 2/3 + 3/5) / 3 = 34/45.
  CHECK(average_precision({true, false, true, false, true}, 3) == Approx(34.0 / 45));
  // Hits 1 0 0 1 1 of 3: precision 1, 1/2, 1/3, 1/2, 3/5; the envelope lifts the second
  // hit from 1/2 to 3/5: (1 + 3/5 + 3/5) / 3 = 11/15 (without it, 0.7).
  CHECK(average_precision({true, false, false, true, true}, 3) == Approx(11.0 / 15));
  CHECK(average_precision({true, true}, 2) == Approx(1.0));
  CHECK(average_precision({false, true}, 1) == Approx(0.5));
  CHECK(average_precision({true}, 4) == Approx(0.25));  // recall never passes 1/4
  CHECK(average_precision({}, 2) == 0);
  CHECK(error_from([] { average_precision({true}, 0); }) ==
        "average precision: 0 ground truths; need at least 1");
}

TEST_CASE("box AP: duplicates, wrong images, thresholds, classes", "[metrics]") {
  // Class 0: truths A (image 0), B (image 0), C (image 1).
  const std::vector<GroundTruth> truths = {
      {0, 0, {0, 0, 10, 10}}, {0, 0, {20, 20, 30, 30}}, {1, 0, {0, 0, 10, 10}}};
  // By score: d0 is A (IoU 1); d1 a duplicate of A (IoU 0.9, A taken: false positive);
  // d2 near C (IoU 80 / 120 = 0.67); d3 is B but in image 1 (false positive); d4 near B
  // (IoU 90 / 110 = 0.82). Listed out of score order on purpose.
  const std::vector<Detection> detections = {{1, 0, 0.6f, {20, 20, 30, 30}},
                                             {0, 0, 0.9f, {0, 0, 10, 10}},
                                             {1, 0, 0.7f, {2, 0, 12, 10}},
                                             {0, 0, 0.5f, {21, 20, 31, 30}},
                                             {0, 0, 0.8f, {0, 0, 10, 9}}};
  // IoU 0.5: hits 1 0 1 0 1, AP 34/45 (the hit-list case above).
  const ApSummary at_50 = box_map(detections, truths, 1);
  CHECK(at_50.per_class[0] == Approx(34.0 / 45));
  CHECK(at_50.mean == Approx(34.0 / 45));
  // IoU 0.7: d2 misses too. Hits 1 0 0 0 1: precision 1, .., 2/5; AP (1 + 2/5) / 3 = 7/15.
  const std::array<float, 1> at_70 = {0.7f};
  CHECK(box_map(detections, truths, 1, at_70).mean == Approx(7.0 / 15));
  // 0.50:0.95: 34/45 at 0.50..0.65 (4), 7/15 at 0.70..0.80 (3), then d4 misses and only
  // d0 hits: 1/3 at 0.85..0.95 (3). Mean (4 (34/45) + 3 (7/15) + 3 (1/3)) / 10 = 244/450.
  CHECK(box_map(detections, truths, 1, iou_50_95).mean == Approx(244.0 / 450));

  // A class with detections but no truth (1) is left out of the mean; a class with truth
  // and no detection (2) has AP 0 and counts.
  auto more_detections = detections;
  more_detections.push_back({0, 1, 0.99f, {0, 0, 10, 10}});
  auto more_truths = truths;
  more_truths.push_back({1, 2, {50, 50, 60, 60}});
  const ApSummary three = box_map(more_detections, more_truths, 3);
  CHECK(three.per_class[0] == Approx(34.0 / 45));
  CHECK(std::isnan(three.per_class[1]));
  CHECK(three.per_class[2] == 0);
  CHECK(three.mean == Approx(17.0 / 45));
  CHECK(std::isnan(box_map(detections, {}, 1).mean));  // no class has truth

  CHECK(box_map({}, truths, 1).mean == 0);
  auto wrong = detections;
  wrong[2].class_id = 3;
  CHECK(error_from([&] { box_map(wrong, truths, 2); }) ==
        "average precision: detection 2 has class 3, outside 0..1");
  wrong[2] = {1, 0, NAN, {}};
  CHECK(error_from([&] { box_map(wrong, truths, 1); }) == "average precision: score 2 is NaN");
}

TEST_CASE("box AP: a detection takes the best truth that is still free", "[metrics]") {
  // Truths g0 = [0, 10) and g1 = [4, 14) across, one image.
  const std::vector<GroundTruth> truths = {{0, 0, {0, 0, 10, 10}}, {0, 0, {4, 0, 14, 10}}};
  // d1 overlaps g0 best (0.82) but g0 is taken by d0; g1 (70 / 130 = 0.54) is free.
  CHECK(box_map(std::vector<Detection>{{0, 0, 0.9f, {0, 0, 10, 10}}, {0, 0, 0.8f, {1, 0, 11, 10}}},
                truths, 1)
            .mean == Approx(1.0));
  // d0 overlaps both by 80 / 120: it takes g0 (lower index), and d1 then only has g1 at
  // 60 / 140 = 0.43: hits 1 0, recall 1/2, AP 1/2.
  CHECK(box_map(std::vector<Detection>{{0, 0, 0.9f, {2, 0, 12, 10}}, {0, 0, 0.8f, {0, 0, 10, 10}}},
                truths, 1)
            .mean == Approx(0.5));
}

TEST_CASE("mask IoU and mask AP on 4 x 4 masks", "[metrics]") {
  const size_t pixels = 16;
  // Masks one after another, each 4 rows of 4.
  const std::vector<uint8_t> truth_masks = {
      1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0,  // truth 0, class 0: left half, 8 px
      0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,  // truth 1, class 1: top-right 2 x 2
  };
  const std::vector<uint8_t> detection_masks = {
      1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0,  // d0, class 0: 6 / 8 = 0.75 with truth 0
      0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0,  // d1, class 1: 4 / 6 = 0.67 with truth 1
      0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,  // d2, class 1, lower score: truth 1
  };
  CHECK(mask_iou(detection_masks.data(), truth_masks.data(), pixels) == Approx(0.75));
  CHECK(mask_iou(detection_masks.data() + 16, truth_masks.data() + 16, pixels) == Approx(4.0 / 6));
  const std::vector<uint8_t> empty(pixels, 0);
  CHECK(mask_iou(empty.data(), empty.data(), pixels) == 0);
  // Boxes are deliberately wrong: mask AP must not look at them.
  const std::vector<GroundTruth> truths = {{0, 0, {}}, {0, 1, {}}};
  const std::vector<Detection> detections = {{0, 0, 0.9f, {}}, {0, 1, 0.8f, {}}, {0, 1, 0.3f, {}}};
  // IoU 0.5: class 0 hits; class 1 hits 1 0 (d2 a duplicate): both AP 1.
  CHECK(mask_map(detections, truths, detection_masks, truth_masks, pixels, 2).mean == 1);
  // IoU 0.7: class 0 AP 1; class 1 hits 0 1: AP 1/2. Mean 3/4.
  const std::array<float, 1> at_70 = {0.7f};
  CHECK(mask_map(detections, truths, detection_masks, truth_masks, pixels, 2, at_70).mean ==
        Approx(0.75));
  // 0.50:0.95: class 0 hits at 0.50..0.75 (6 of 10): 0.6; class 1 AP 1 at 0.50..0.65 and
  // 1/2 at 0.70..0.95: (4 + 3) / 10 = 0.7. Mean 0.65.
  const ApSummary coco =
      mask_map(detections, truths, detection_masks, truth_masks, pixels, 2, iou_50_95);
  CHECK(coco.per_class[0] == Approx(0.6));
  CHECK(coco.per_class[1] == Approx(0.7));
  CHECK(coco.mean == Approx(0.65));
  const auto short_masks = std::span(detection_masks).first(40);
  CHECK(error_from([&] { mask_map(detections, truths, short_masks, truth_masks, pixels, 2); }) ==
        "mask AP: 40 detection mask bytes for 3 masks of 16 pixels");
  // An overlap built for two truths, asked about a third.
  const Overlap overlap = mask_overlap(detection_masks, truth_masks, pixels);
  CHECK(overlap(1, 1) == Approx(4.0 / 6));
  CHECK(error_from([&] { overlap(0, 2); }) ==
        "mask_overlap: pair (0, 2) outside its 3 detections and 2 truths");
}

TEST_CASE("a perfect detector on scenes has box and mask AP 1 at every threshold", "[metrics]") {
  const kiln::scenes::SceneSet set = kiln::scenes::make_scenes(30, 64, 11);
  std::vector<Detection> detections;
  std::vector<GroundTruth> truths;
  std::vector<uint8_t> masks;
  for (int i = 0; i < set.count; ++i)
    for (size_t k = 0; k < set.objects[i].size(); ++k) {
      const auto& object = set.objects[i][k];
      truths.push_back({i, object.class_id, object.box});
      // Scores in an arbitrary order: a perfect detector needs no particular ranking.
      detections.push_back({i, object.class_id, float((i * 7 + k * 3) % 11), object.box});
      for (size_t p = 0; p < set.mask_size(); ++p)
        masks.push_back(set.instance_mask(i)[p] == k + 1);
    }
  const ApSummary boxes = box_map(detections, truths, kiln::scenes::class_count, iou_50_95);
  const ApSummary instance_masks = mask_map(detections, truths, masks, masks, set.mask_size(),
                                            kiln::scenes::class_count, iou_50_95);
  for (int c = 0; c < kiln::scenes::class_count; ++c) {
    CHECK(boxes.per_class[c] == Approx(1.0));
    CHECK(instance_masks.per_class[c] == Approx(1.0));
  }
  // No detections at all: AP 0 for every class.
  CHECK(box_map({}, truths, kiln::scenes::class_count).mean == 0);
}
