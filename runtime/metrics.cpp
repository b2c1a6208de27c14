#include "runtime/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "runtime/error.hpp"

namespace kiln::metrics {
namespace {

constexpr double undefined = std::numeric_limits<double>::quiet_NaN();

// Mean of the values that are not NaN; NaN if there are none.
double mean_of_defined(const std::vector<double>& values) {
  double sum = 0;
  int n = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++n;
  return n > 0 ? sum / n : undefined;
}

template <class Label>
void add_pixels(std::vector<int64_t>& counts, int classes, std::span<const Label> predicted,
                std::span<const Label> truth) {
  if (predicted.size() != truth.size())
    fail("confusion matrix: {} predicted labels but {} true ones", predicted.size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    const int64_t p = predicted[i], t = truth[i];
    if (p < 0 || p >= classes || t < 0 || t >= classes)
      fail("confusion matrix: label {} (predicted) / {} (true) at pixel {} is outside 0..{}", p, t,
           i, classes - 1);
    ++counts[size_t(t) * classes + size_t(p)];
  }
}

// Indices of the boxes by descending score, equal scores by ascending index.
std::vector<int> by_descending_score(std::span<const float> scores, const char* what) {
  for (size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i])) fail("{}: score {} is NaN", what, i);
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  return order;
}

// The greedy loop of nms and nms_per_class; classes empty: one class for all.
std::vector<int> suppress(std::span<const Box> boxes, std::span<const float> scores,
                          std::span<const int> classes, float iou_threshold, const char* what) {
  if (boxes.size() != scores.size())
    fail("{}: {} boxes but {} scores", what, boxes.size(), scores.size());
  if (!classes.empty() && classes.size() != boxes.size())
    fail("{}: {} boxes but {} class ids", what, boxes.size(), classes.size());
  std::vector<int> kept;
  for (int i : by_descending_score(scores, what)) {
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](int k) {
      return (classes.empty() || classes[k] == classes[i]) &&
             iou(boxes[k], boxes[i]) > iou_threshold;
    });
    if (!suppressed) kept.push_back(i);
  }
  return kept;
}

// An Overlap asked about a pair beyond its arrays was built for other arrays.
void check_pair(int d, size_t detections, int g, size_t truths, const char* what) {
  if (d < 0 || size_t(d) >= detections || g < 0 || size_t(g) >= truths)
    fail("{}: pair ({}, {}) outside its {} detections and {} truths", what, d, g, detections,
         truths);
}

// One class's matching problem: its detections in score order and, for each, the ground
// truths of its image and class with their overlaps (computed once for all thresholds).
struct ClassMatches {
  struct Candidate {
    int truth;  // index into the caller's truths
    float overlap;
  };
  int truth_count = 0;
  std::vector<std::vector<Candidate>> candidates;  // (detections of the class in order)
};

std::vector<ClassMatches> gather(std::span<const Detection> detections,
                                 std::span<const GroundTruth> truths, int classes,
                                 const Overlap& overlap) {
  if (classes < 1) fail("average precision: {} classes; need at least 1", classes);
  std::vector<ClassMatches> per_class(classes);
  // (image, class) -> ground truth indices, ascending.
  std::map<std::pair<int, int>, std::vector<int>> truths_of;
  for (size_t g = 0; g < truths.size(); ++g) {
    const int c = truths[g].class_id;
    if (c < 0 || c >= classes)
      fail("average precision: ground truth {} has class {}, outside 0..{}", g, c, classes - 1);
    truths_of[{truths[g].image, c}].push_back(int(g));
    ++per_class[c].truth_count;
  }
  std::vector<float> scores(detections.size());
  for (size_t d = 0; d < detections.size(); ++d) {
    const int c = detections[d].class_id;
    if (c < 0 || c >= classes)
      fail("average precision: detection {} has class {}, outside 0..{}", d, c, classes - 1);
    scores[d] = detections[d].score;
  }
  for (int d : by_descending_score(scores, "average precision")) {
    const Detection& detection = detections[d];
    std::vector<ClassMatches::Candidate> candidates;
    const auto found = truths_of.find({detection.image, detection.class_id});
    if (found != truths_of.end())
      for (int g : found->second) candidates.push_back({g, overlap(d, g)});
    per_class[detection.class_id].candidates.push_back(std::move(candidates));
  }
  return per_class;
}

// The greedy matching of one class at one threshold: a hit or a miss per detection.
std::vector<bool> match(const ClassMatches& matches, float threshold, size_t truth_total) {
  std::vector<bool> taken(truth_total), hits;
  hits.reserve(matches.candidates.size());
  for (const auto& candidates : matches.candidates) {
    int best = -1;
    float best_overlap = -1;
    for (const auto& [g, value] : candidates)  // ascending g: the lower index wins ties
      if (!taken[g] && value > best_overlap) best = g, best_overlap = value;
    const bool hit = best >= 0 && best_overlap >= threshold;
    if (hit) taken[best] = true;
    hits.push_back(hit);
  }
  return hits;
}

}  // namespace

ConfusionMatrix::ConfusionMatrix(int classes) : classes_(classes) {
  if (classes < 1) fail("confusion matrix: {} classes; need at least 1", classes);
  counts_.assign(size_t(classes) * classes, 0);
}

void ConfusionMatrix::add(std::span<const uint8_t> predicted, std::span<const uint8_t> truth) {
  add_pixels(counts_, classes_, predicted, truth);
}

void ConfusionMatrix::add(std::span<const int32_t> predicted, std::span<const int32_t> truth) {
  add_pixels(counts_, classes_, predicted, truth);
}

int64_t ConfusionMatrix::total() const {
  return std::accumulate(counts_.begin(), counts_.end(), int64_t(0));
}

std::vector<double> ConfusionMatrix::iou() const {
  std::vector<double> result(classes_);
  for (int k = 0; k < classes_; ++k) {
    int64_t row = 0, column = 0;
    for (int j = 0; j < classes_; ++j) row += count(k, j), column += count(j, k);
    const int64_t tp = count(k, k), united = row + column - tp;  // TP + FN + FP
    result[k] = united > 0 ? double(tp) / double(united) : undefined;
  }
  return result;
}

double ConfusionMatrix::mean_iou() const { return mean_of_defined(iou()); }

double ConfusionMatrix::pixel_accuracy() const {
  int64_t correct = 0;
  for (int k = 0; k < classes_; ++k) correct += count(k, k);
  const int64_t all = total();
  return all > 0 ? double(correct) / double(all) : undefined;
}

float area(const Box& box) {
  return std::max(0.0f, box.x1 - box.x0) * std::max(0.0f, box.y1 - box.y0);
}

void check_box(const Box& b, std::string_view what) {
  if (!std::isfinite(b.x0) || !std::isfinite(b.y0) || !std::isfinite(b.x1) || !std::isfinite(b.y1))
    fail("{}: a box with a non-finite corner ({}, {}, {}, {})", what, b.x0, b.y0, b.x1, b.y1);
  if (!(b.x1 > b.x0 && b.y1 > b.y0)) fail("{}: the box x {}..{}, y {}..{} has no area", what, b.x0, b.x1, b.y0, b.y1);
}

Box clipped(const Box& b, float size) {
  return {std::clamp(b.x0, 0.0f, size), std::clamp(b.y0, 0.0f, size), std::clamp(b.x1, 0.0f, size),
          std::clamp(b.y1, 0.0f, size)};
}

float iou(const Box& a, const Box& b) {
  const Box overlap{std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1),
                    std::min(a.y1, b.y1)};
  const float inter = area(overlap), united = area(a) + area(b) - inter;
  return united > 0 ? inter / united : 0.0f;
}

std::vector<int> nms(std::span<const Box> boxes, std::span<const float> scores,
                     float iou_threshold) {
  return suppress(boxes, scores, {}, iou_threshold, "nms");
}

std::vector<int> nms_per_class(std::span<const Box> boxes, std::span<const float> scores,
                               std::span<const int> classes, float iou_threshold) {
  if (classes.size() != boxes.size())
    fail("nms_per_class: {} boxes but {} class ids", boxes.size(), classes.size());
  return suppress(boxes, scores, classes, iou_threshold, "nms_per_class");
}

Overlap box_overlap(std::span<const Detection> detections, std::span<const GroundTruth> truths) {
  return [detections, truths](int d, int g) {
    check_pair(d, detections.size(), g, truths.size(), "box_overlap");
    return iou(detections[d].box, truths[g].box);
  };
}

Overlap mask_overlap(std::span<const uint8_t> detection_masks, std::span<const uint8_t> truth_masks,
                     size_t mask_pixels) {
  if (mask_pixels == 0) fail("mask_overlap: masks of 0 pixels");
  if (detection_masks.size() % mask_pixels != 0 || truth_masks.size() % mask_pixels != 0)
    fail("mask_overlap: {} detection and {} truth mask bytes are not whole masks of {} pixels",
         detection_masks.size(), truth_masks.size(), mask_pixels);
  return [=](int d, int g) {
    check_pair(d, detection_masks.size() / mask_pixels, g, truth_masks.size() / mask_pixels,
               "mask_overlap");
    return mask_iou(detection_masks.data() + size_t(d) * mask_pixels,
                    truth_masks.data() + size_t(g) * mask_pixels, mask_pixels);
  };
}

float mask_iou(const uint8_t* a, const uint8_t* b, size_t pixels) {
  size_t inter = 0, united = 0;
  for (size_t i = 0; i < pixels; ++i) {
    inter += a[i] && b[i];
    united += a[i] || b[i];
  }
  return united > 0 ? float(double(inter) / double(united)) : 0.0f;
}

double average_precision(const std::vector<bool>& true_positive, int truth_count) {
  if (truth_count < 1) fail("average precision: {} ground truths; need at least 1", truth_count);
  const size_t n = true_positive.size();
  std::vector<double> precision(n);
  int hits = 0;
  for (size_t i = 0; i < n; ++i) precision[i] = double(hits += true_positive[i]) / double(i + 1);
  if (hits > truth_count)
    fail("average precision: {} true positives but only {} ground truths", hits, truth_count);
  // The envelope, right to left; then each hit adds a recall step of 1 / truth_count.
  for (size_t i = n; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double ap = 0;
  for (size_t i = 0; i < n; ++i)
    if (true_positive[i]) ap += precision[i] / truth_count;
  return ap;
}

ApSummary mean_average_precision(std::span<const Detection> detections,
                                 std::span<const GroundTruth> truths, int classes,
                                 std::span<const float> thresholds, const Overlap& overlap) {
  if (thresholds.empty()) fail("average precision: no IoU thresholds");
  const auto per_class = gather(detections, truths, classes, overlap);
  ApSummary summary;
  for (const ClassMatches& matches : per_class) {
    if (matches.truth_count == 0) {
      summary.per_class.push_back(undefined);
      continue;
    }
    double sum = 0;
    for (float threshold : thresholds)
      sum += average_precision(match(matches, threshold, truths.size()), matches.truth_count);
    summary.per_class.push_back(sum / double(thresholds.size()));
  }
  summary.mean = mean_of_defined(summary.per_class);
  return summary;
}

ApSummary box_map(std::span<const Detection> detections, std::span<const GroundTruth> truths,
                  int classes, std::span<const float> thresholds) {
  return mean_average_precision(detections, truths, classes, thresholds,
                                box_overlap(detections, truths));
}

ApSummary mask_map(std::span<const Detection> detections, std::span<const GroundTruth> truths,
                   std::span<const uint8_t> detection_masks, std::span<const uint8_t> truth_masks,
                   size_t mask_pixels, int classes, std::span<const float> thresholds) {
  if (mask_pixels == 0) fail("mask AP: masks of 0 pixels");
  if (detection_masks.size() != detections.size() * mask_pixels)
    fail("mask AP: {} detection mask bytes for {} masks of {} pixels", detection_masks.size(),
         detections.size(), mask_pixels);
  if (truth_masks.size() != truths.size() * mask_pixels)
    fail("mask AP: {} truth mask bytes for {} masks of {} pixels", truth_masks.size(),
         truths.size(), mask_pixels);
  return mean_average_precision(detections, truths, classes, thresholds,
                                mask_overlap(detection_masks, truth_masks, mask_pixels));
}

}  // namespace kiln::metrics
