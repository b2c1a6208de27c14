// Single-shot (YOLO-style) detection of the procedural scenes (runtime/scenes.hpp) by a
// model that maps 3 x S x S images to a G x G grid of cells, B anchors per cell, each
// anchor 5 + C channels: tx, ty, tw, th, objectness, then one logit per class (channel
// a (5 + C) + k of the head; C = scenes::class_count). A box with centre (cx, cy) and
// sides w, h sits in cell (i, j) = (cy / s, cx / s), s = S / G, and is read as
//   cx = (j + sigmoid(tx)) s,  cy = (i + sigmoid(ty)) s,  w = A_a e^tw,  h = A_a e^th
// with A_a the side of square anchor a; its score for class k is
// sigmoid(objectness) sigmoid(class k). Training makes target_loss targets (the model
// ends in one, models/yolo.hpp) from the scenes' boxes; evaluation is mAP.
#pragma once
#include "runtime/image.hpp"
#include "runtime/metrics.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/scenes.hpp"
#include "runtime/segmentation.hpp"
#include "runtime/step_loop.hpp"

#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace kiln::detection {

struct Layout {
  int size = 0;    // S: the images are 3 x S x S
  int grid = 0;    // G: G x G cells
  float stride = 0;  // S / G pixels per cell
  int anchors = 0;   // B per cell
  // The anchors' sides: B sizes spaced evenly in log scale over the scenes' nominal
  // object sides 2 min_half .. 2 max_half (B = 3: 11.3, 22.6, 45.3 px).
  std::vector<float> anchor_sizes;
  static constexpr int per_anchor = 5 + scenes::class_count;
  int channels() const { return anchors * per_anchor; }
  std::size_t cells() const { return std::size_t(grid) * grid; }
};

// The layout of a detector's head; kiln::Error unless the model reads 3 x S x S images and
// gives (B (5 + C), G, G) with G dividing S.
Layout layout_of(const ModelView& model);

// How the loss weighs its terms, per element of the targets.
struct LossWeights {
  float box = 1;        // the 4 box numbers of a responsible anchor (times 2 - w h / S^2)
  float object = 1;     // its objectness
  float no_object = 1;  // the objectness of every other anchor,
  float classes = 1;    // and the class scores of a responsible anchor
  // unless the anchor, placed at its cell's centre, overlaps a true box by more than
  // this IoU: then its objectness is not trained either way.
  float ignore_iou = 0.5f;
};

// One sample's targets [2, B (5 + C), G, G] (target_loss: values, then weights) for the
// objects' boxes: each box is the responsibility of the anchor of its centre's cell
// whose shape overlaps it most. kiln::Error for a box that is not finite or has no area.
void encode_targets(const Layout& layout, std::span<const scenes::SceneObject> objects,
                    float* targets, const LossWeights& weights = {});

struct DecodeSettings {
  float min_score = 0.01f;  // detections scoring less are dropped
  float nms_iou = 0.45f;    // per-class non-maximum suppression
  int max_detections = 100;  // per image, best first
};

// The detections of one image from its head output [B (5 + C), G, G], boxes clipped to
// the image, after per-class NMS, best first.
std::vector<metrics::Detection> decode(const Layout& layout, const float* head, int image,
                                       const DecodeSettings& settings = {});

// The detections of `count` images of the set (image i of the set is `image` i).
std::vector<metrics::Detection> detect(const Network& net, const Parameters& params,
                                       const float* images, int count,
                                       const DecodeSettings& settings = {}, int batch = 16);

struct DetectionScores {
  metrics::ApSummary map_50, map_50_95;
};
DetectionScores evaluate_detection(const Network& net, const Parameters& params,
                                   const scenes::SceneSet& set, int batch = 16);
// "mAP@0.5 0.8512 (circle ..., square ..., triangle ...), mAP@[.5:.95] 0.5123"
std::string map_summary(const DetectionScores& s);

struct DetectionEpoch {
  EpochStats stats;
  DetectionScores scores;
};

// Trains on scenes made on the fly as train_segmentation does, judging the held-out
// scenes' mAP after each epoch.
std::vector<DetectionEpoch> train_detection(const Network& net, Parameters& params,
                                            const SceneSplit& split, const StepLoop& loop,
                                            std::FILE* log);

// The image with each detection's box outlined in its class's tint (overlay_classes'),
// two pixels wide, the outline's brightness its score, and labelled with its class and
// score ("square 0.97", black on the tint) above the box, or over its top edge when the
// box touches the image's top.
Image draw_detections(const Image& image, std::span<const metrics::Detection> detections);

}  // namespace kiln::detection
