// The kiln subcommands; each takes the arguments after its name.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "runtime/image.hpp"
#include "runtime/step_loop.hpp"

namespace kiln {
struct RegisteredModel;
struct Recipe;
}

namespace kiln::cli {

class Flags;
// The model named by the first positional argument; kiln::Error listing the known ones.
const RegisteredModel& model_argument(const Flags& flags);

int train(const std::vector<std::string>& args);
// kiln tune (tune_commands.cpp).
int tune_command(const std::vector<std::string>& args);
int eval(const std::vector<std::string>& args);
int predict(const std::vector<std::string>& args);
int forward(const std::vector<std::string>& args);
int gradients(const std::vector<std::string>& args);
int models(const std::vector<std::string>& args);
// The language models' train, eval (bits per character) and sample (text_commands.cpp);
// train and eval hand over to them for a model whose recipe trains on text.
int train_text(const std::vector<std::string>& args);
int eval_text(const std::vector<std::string>& args);
int sample(const std::vector<std::string>& args);
// What every train command reads the same way, the recipe's values where a flag is
// absent: --epochs, --batch, --optimizer, --lr, --weight-decay, --lr-schedule, --seed,
// --minutes (and --clip: the recipe's clipping unless given).
StepLoop training_flags(const Flags& flags, const Recipe& recipe);
// A train command's known flags: those training_flags reads, then its own.
std::vector<std::string> with_training_flags(std::vector<std::string> own);

// kiln predict's image: the second positional argument (kiln::Error unless there is
// exactly one image), read and checked against the model's input shape.
std::string image_argument(const Flags& flags);
Image model_image(const RegisteredModel& model, const std::string& path);

// The recipe's data set of the model the arguments name ("" when they name none):
// train, eval and predict hand text and scene models to their own commands.
std::string_view named_dataset(const std::vector<std::string>& args);
// The segmentation models' train, eval (mean IoU) and predict (a class per pixel, and an
// overlay PNG with --out): scene_commands.cpp.
int train_scenes(const std::vector<std::string>& args);
int eval_scenes(const std::vector<std::string>& args);
int predict_scenes(const std::vector<std::string>& args);
// The same for detectors (recipe data set "scene_boxes"): mAP, and the boxes found.
int train_boxes(const std::vector<std::string>& args);
int eval_boxes(const std::vector<std::string>& args);
int predict_boxes(const std::vector<std::string>& args);
// And for classification with localization ("scene_object"): the localized fraction, and
// the class and box of one image.
int train_object(const std::vector<std::string>& args);
int eval_object(const std::vector<std::string>& args);
int predict_object(const std::vector<std::string>& args);
// And for two-stage detectors with masks ("scene_masks"): box mAP and mask AP, and the
// boxes and masks of one image.
int train_masks(const std::vector<std::string>& args);
int eval_masks(const std::vector<std::string>& args);
int predict_masks(const std::vector<std::string>& args);
// Whether the arguments name a model without a loss whose output is a map of class
// scores (an OverFeat-style scanner), and its predict: the windows that hold a shape.
bool names_window_scanner(const std::vector<std::string>& args);
int predict_windows(const std::vector<std::string>& args);
// kiln scenes: procedural scenes as PNG files (to run predict on) with their true classes.
int scenes_command(const std::vector<std::string>& args);
// Captioners (recipe data set "captions", caption_commands.cpp): train, eval (exact
// captions and attention on the named objects), predict (the caption of one image, and
// with --attention a PNG of where the decoder looked), and kiln captions (sample images
// with their true captions).
int train_captions(const std::vector<std::string>& args);
int eval_captions(const std::vector<std::string>& args);
int predict_captions(const std::vector<std::string>& args);
int captions_command(const std::vector<std::string>& args);

}  // namespace kiln::cli
