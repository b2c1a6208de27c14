// Semantic segmentation of the procedural scenes (runtime/scenes.hpp) by a model that
// maps a 3 x S x S image to per-pixel logits (K, S, S), K = 1 + scenes::class_count
// (background, then each class): training on scenes made on the fly, mean IoU on
// held-out scenes, and a picture of the prediction.
#pragma once
#include "runtime/image.hpp"
#include "runtime/metrics.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/scenes.hpp"
#include "runtime/step_loop.hpp"

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace kiln {

// Which scenes train and which judge: scene i of set `seed` for i below `train_scenes`
// trains; the `held_out` scenes after them are never trained on.
struct SceneSplit {
  uint64_t seed = 0;
  int train_scenes = 100'000;
  int held_out = 500;
  int epoch_scenes = 2000;  // an epoch (the data never repeats: only a reporting unit)
};

// What a scene trainer puts in sample s of a batch for the scene `one` (its image is
// already in the input): labels, targets or regions.
using SceneSample = std::function<void(const scenes::SceneSet& one, int s, SplitMix64& rng, int32_t* labels,
                                       float* targets, float* rois)>;
// The scene trainers' loop (runtime/step_loop.hpp): each sample a training scene of the
// split drawn at random and made on the fly (side `size`, at most `most_objects`
// objects), an epoch of split.epoch_scenes; `judge` scores the held-out scenes after each
// epoch and gives the log line.
void train_on_scenes(const Network& net, Parameters& params, const SceneSplit& split, const StepLoop& loop,
                     int size, int most_objects, const SceneSample& sample, const EpochDone& judge, std::FILE* log);

// The side S of a segmentation model's square images; kiln::Error unless it reads 3 x S x
// S images and gives (1 + scenes::class_count, S, S) logits.
int segmentation_size(const ModelView& model);

// The held-out scenes of `split` at the model's size.
scenes::SceneSet held_out_scenes(const ModelView& model, const SceneSplit& split);

// Per-pixel class (arg-max of the logits) of `count` images of the set, in its order: [count, S, S].
std::vector<uint8_t> predict_classes(const Network& net, const Parameters& params,
                                     const float* images, int count, int batch = 16);

// The confusion matrix of the model's per-pixel classes against the scenes' semantic masks.
metrics::ConfusionMatrix evaluate_segmentation(const Network& net, const Parameters& params,
                                               const scenes::SceneSet& set, int batch = 16);

// "mean IoU 0.9493 (background 0.9960, circle ..., ...), pixel accuracy 99.12 %".
std::string iou_summary(const metrics::ConfusionMatrix& m);

struct SegmentationEpoch {
  EpochStats stats;
  double mean_iou = 0;
  std::vector<double> iou;  // per class, background first
};

// Trains on batches of scenes drawn uniformly from the training indices (loop.seed draws
// them), split.epoch_scenes of them an epoch; judges the held-out scenes after each.
std::vector<SegmentationEpoch> train_segmentation(const Network& net, Parameters& params,
                                                  const SceneSplit& split, const StepLoop& loop,
                                                  std::FILE* log);

// The image with each pixel of class k > 0 tinted with that class's colour (half and
// half), and a one-pixel outline where the class changes: what `kiln predict` writes.
Image overlay_classes(const Image& image, const std::vector<uint8_t>& classes);

// "circle", "square", "triangle" with "background" before them: the names of the K classes,
// and the RGB tint overlays give each (background's is black).
std::string_view segmentation_class_name(int k);
const float* class_tint(int k);

}  // namespace kiln
