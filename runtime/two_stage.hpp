// A two-stage detector with masks (models/frcnn.hpp) on the procedural scenes: one model
// whose output joins three heads (heads(...)): the region proposal head [5 A, G, G]
// (runtime/proposals.hpp), and per region of the list given with the batch ([R, 4]) a box
// head (C class scores, then deltas toward the object, anchors::encode with weights 10,
// 10, 5, 5) and a mask head (mask_side^2 logits over the region).
// Training: proposal targets from the true boxes; regions sampled around the true boxes
// (positives, jittered) and away from them (negatives), with their class, box and mask
// targets. Inference: a first call proposes regions, a second reads them.
#pragma once
#include "runtime/anchors.hpp"
#include "runtime/metrics.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/proposals.hpp"
#include "runtime/random.hpp"
#include "runtime/scenes.hpp"
#include "runtime/segmentation.hpp"
#include "runtime/step_loop.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace kiln::two_stage {

inline constexpr int mask_side = 14;
inline constexpr int box_numbers = scenes::class_count + 4;
inline constexpr anchors::DeltaWeights box_weights{10, 10, 5, 5};

struct Layout {
  int size = 0;     // S: images 3 x S x S
  int regions = 0;  // R per image
  proposals::Layout rpn;
  std::size_t rpn_floats() const { return std::size_t(rpn.channels()) * rpn.grid * rpn.grid; }
  std::size_t box_floats() const { return std::size_t(regions) * box_numbers; }
  std::size_t mask_floats() const { return std::size_t(regions) * mask_side * mask_side; }
  std::size_t output_floats() const { return rpn_floats() + box_floats() + mask_floats(); }
};
// kiln::Error unless the model reads 3 x S x S images and R regions and gives the three
// heads joined, with 3 anchor sizes per cell.
Layout layout_of(const ModelView& model);

// How training weighs the heads' terms.
struct LossWeights {
  float objectness = 0.1f, proposal_box = 1, classes = 1, box = 1, mask = 0.1f;
};

// One scene's training sample: its regions [R, 4] (up to R/2 positives: each true box
// and jittered copies overlapping it by IoU >= 0.6; negatives overlapping every true box
// by IoU < 0.4) and its targets [2, output] (values, then weights).
void training_sample(const Layout& l, const scenes::SceneSet& set, int index, SplitMix64& rng,
                     float* rois, float* targets, const LossWeights& w = {});

struct Found {
  std::vector<metrics::Detection> detections;
  std::vector<uint8_t> masks;  // per detection S x S, 1 inside
};
// The detections (score >= min_score, per-class NMS at 0.5, the best max_per_image) and
// their masks of `count` images.
Found detect(const Network& net, const Parameters& params, const float* images, int count,
             float min_score = 0.05f, int max_per_image = 10, int batch = 16);

struct Scores {
  metrics::ApSummary box_map, mask_map;  // at IoU 0.5
};
Scores evaluate(const Network& net, const Parameters& params, const scenes::SceneSet& set);
// "box mAP@0.5 0.8812 (circle ..., ...), mask AP@0.5 0.8011"
std::string summary(const Scores& s);

struct Epoch {
  EpochStats stats;
  Scores scores;
};
// Trains on scenes made on the fly as the other scene trainers do, judging the held-out
// scenes' box mAP and mask AP after each epoch.
std::vector<Epoch> train(const Network& net, Parameters& params, const SceneSplit& split,
                         const StepLoop& loop, std::FILE* log);

}  // namespace kiln::two_stage
