// Classification with localization of single-object scenes (runtime/scenes.hpp,
// make_scenes with most_objects 1) by a model that maps a 3 x S x S image to C + 4
// numbers (C = scenes::class_count): a logistic score per class, then the object's box
// x0, y0, x1, y1 in units of box_unit pixels. The model ends in a target_loss
// (models/localizer.hpp) whose targets encode() makes.
#pragma once
#include "runtime/metrics.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/scenes.hpp"
#include "runtime/segmentation.hpp"
#include "runtime/step_loop.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace kiln::localization {

inline constexpr float box_unit = 8;  // pixels per unit of the box outputs
inline constexpr int outputs = scenes::class_count + 4;

// The side S of the model's images; kiln::Error unless it reads 3 x S x S images and
// gives C + 4 numbers.
int image_size(const ModelView& model);

// One sample's targets [2, C + 4] (values, then weights, all 1): the object's class one-hot
// and its box. kiln::Error for a box that is not finite or has no area.
void encode(const scenes::SceneObject& object, float* targets);

// The model's answer for one image: the best-scoring class, its probability and the box.
metrics::Detection decode(const float* out, int image = 0);

// The single-object held-out scenes of `split` at size S.
scenes::SceneSet held_out_objects(const SceneSplit& split, int size);

struct Scores {
  double correct = 0;  // the class right and the box's IoU with the true one >= 0.5
  double class_accuracy = 0;
  double mean_iou = 0;  // of the boxes, whatever the class
};
Scores evaluate(const Network& net, const Parameters& params, const scenes::SceneSet& set, int batch = 64);
// "localized 97.20 % (class right and IoU >= 0.5), class accuracy 99.00 %, mean box IoU 0.8512"
std::string summary(const Scores& s);

struct Epoch {
  EpochStats stats;
  Scores scores;
};
// Trains on single-object scenes made on the fly (split.train_scenes of them; an epoch is
// split.epoch_scenes), judging the held-out ones after each epoch.
std::vector<Epoch> train(const Network& net, Parameters& params, const SceneSplit& split,
                         const StepLoop& loop, std::FILE* log);

}  // namespace kiln::localization
