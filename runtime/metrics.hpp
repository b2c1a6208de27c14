// The usual metrics of detection and segmentation: a confusion matrix with per-class IoU,
// mean IoU and pixel accuracy; box IoU and non-maximum suppression; average precision
// (box or mask overlap) per class and its mean at one IoU threshold or over 0.50:0.95.
// Undefined values (a class absent from both prediction and truth, a class without
// ground truth) are NaN, and every mean leaves them out.
#pragma once
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace kiln::metrics {

// ---- Segmentation ----

// counts(truth, predicted) over `classes` labels 0..classes-1, summed over every pixel
// given to add(). Rows are the truth, columns the prediction.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes);  // classes >= 1

  // Adds one pixel per element; predicted and truth have the same length, every label in
  // 0..classes-1 (kiln::Error otherwise: no "ignore" label).
  void add(std::span<const uint8_t> predicted, std::span<const uint8_t> truth);
  void add(std::span<const int32_t> predicted, std::span<const int32_t> truth);

  int classes() const { return classes_; }
  int64_t count(int truth, int predicted) const {
    return counts_[size_t(truth) * classes_ + predicted];
  }
  int64_t total() const;

  // Per class k: TP / (TP + FP + FN), TP = count(k, k), FP = the rest of column k, FN =
  // the rest of row k. NaN where TP + FP + FN = 0 (k neither predicted nor true).
  std::vector<double> iou() const;
  // Mean of iou() over the classes where it is defined (union non-zero), so a class
  // missing from a small evaluation set neither counts as 0 nor as 1. NaN if none is.
  double mean_iou() const;
  // Fraction of pixels labelled correctly: trace / total. NaN with no pixels.
  double pixel_accuracy() const;

 private:
  int classes_;
  std::vector<int64_t> counts_;  // (classes, classes), row = truth
};

// ---- Boxes ----

// An axis-aligned box in pixel units: x0, y0 the top-left corner, x1, y1 the exclusive
// right and bottom edges (the single pixel (3, 5) is the box 3, 5, 4, 6).
struct Box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// (x1 - x0) (y1 - y0), 0 for a box with x1 <= x0 or y1 <= y0.
float area(const Box& box);

// A true box a target is made from: kiln::Error ("<what>: a box with a non-finite corner
// ...", "<what>: the box x ..., y ... has no area") unless its corners are finite and
// x1 > x0, y1 > y0.
void check_box(const Box& box, std::string_view what);

// The box cut to an image of size x size pixels (each corner clamped to 0..size).
Box clipped(const Box& box, float size);

// Intersection over union. Boxes that only touch (an edge or a corner in common) have
// IoU 0, and so do two empty boxes (an empty union).
float iou(const Box& a, const Box& b);

// Greedy non-maximum suppression: visits boxes by descending score (equal scores: lower
// index first), keeps a box unless its IoU with an already kept box is > iou_threshold.
// Returns the kept indices in that visiting order; empty input gives an empty result.
// boxes and scores have the same length; a NaN score is a kiln::Error.
std::vector<int> nms(std::span<const Box> boxes, std::span<const float> scores,
                     float iou_threshold);

// The same, but a box is only suppressed by kept boxes of its own class: the result is
// what nms() per class would keep, merged in score order. classes: one id per box.
std::vector<int> nms_per_class(std::span<const Box> boxes, std::span<const float> scores,
                               std::span<const int> classes, float iou_threshold);

// ---- Average precision ----

// A detector's logit as a probability (its scores and objectness are sigmoids).
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// One detection in an evaluation set of many images. `image` only groups detections
// with ground truths (any int); class_id in 0..classes-1; the box is unused by mask AP.
struct Detection {
  int image = 0;
  int class_id = 0;
  float score = 0;
  Box box;
};

struct GroundTruth {
  int image = 0;
  int class_id = 0;
  Box box;
};

// The overlap (an IoU in [0, 1]) of detection d with ground truth g, both indices into
// the arrays given to mean_average_precision. Only asked for pairs of the same image and
// class, at most once each.
using Overlap = std::function<float(int detection, int truth)>;

// Box IoU of the pair. Keeps references to both arrays: they must outlive the Overlap.
Overlap box_overlap(std::span<const Detection> detections, std::span<const GroundTruth> truths);

// Mask IoU of the pair: detection_masks is (detections, mask_pixels), truth_masks is
// (truths, mask_pixels), non-zero = inside. Keeps references, like box_overlap.
Overlap mask_overlap(std::span<const uint8_t> detection_masks, std::span<const uint8_t> truth_masks,
                     size_t mask_pixels);

// |a and b| / |a or b| of two masks of `pixels` bytes (non-zero = inside); 0 if both empty.
float mask_iou(const uint8_t* a, const uint8_t* b, size_t pixels);

// All-point interpolated AP (PASCAL VOC 2010 and later; COCO samples the same envelope
// at 101 recalls instead). true_positive: the detections of one class in descending
// score order, each a hit or a miss; truth_count >= 1 ground truths of the class.
// After detection i, precision p_i = hits so far / (i + 1), recall r_i = hits so far /
// truth_count; the envelope q_i = max over j >= i of p_j; AP = sum over i of
// (r_i - r_{i-1}) q_i with r_{-1} = 0, which only the hits add to.
double average_precision(const std::vector<bool>& true_positive, int truth_count);

// The IoU thresholds of "AP50" and of COCO's "AP" (0.50, 0.55, ..., 0.95).
inline constexpr std::array<float, 1> iou_50 = {0.5f};
inline constexpr std::array<float, 10> iou_50_95 = {0.50f, 0.55f, 0.60f, 0.65f, 0.70f,
                                                    0.75f, 0.80f, 0.85f, 0.90f, 0.95f};

struct ApSummary {
  // Per class, AP averaged over the thresholds; NaN for a class without ground truth
  // (its detections are all false positives, but there is no recall to speak of).
  std::vector<double> per_class;
  double mean = 0;  // over the classes that are not NaN; NaN if none has ground truth
};

// AP per class at each threshold, then averaged over the thresholds. Matching, per class
// and threshold: detections by descending score (equal scores: lower index first); each
// takes the not yet matched ground truth of its image and class with the highest
// overlap (equal overlaps: lower index), if that overlap is >= the threshold, and is a
// true positive; otherwise it is a false positive (a duplicate, a poor box, a wrong image).
// kiln::Error for a class id outside 0..classes-1 or a NaN score.
ApSummary mean_average_precision(std::span<const Detection> detections,
                                 std::span<const GroundTruth> truths, int classes,
                                 std::span<const float> thresholds, const Overlap& overlap);

// mean_average_precision with box IoU: mAP@0.5 by default, or iou_50_95.
ApSummary box_map(std::span<const Detection> detections, std::span<const GroundTruth> truths,
                  int classes, std::span<const float> thresholds = iou_50);

// mean_average_precision with mask IoU; masks as for mask_overlap.
ApSummary mask_map(std::span<const Detection> detections, std::span<const GroundTruth> truths,
                   std::span<const uint8_t> detection_masks, std::span<const uint8_t> truth_masks,
                   size_t mask_pixels, int classes, std::span<const float> thresholds = iou_50);

}  // namespace kiln::metrics
