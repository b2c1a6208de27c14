// Network: a registered model's generated entries on one target, called with plain
// float arrays in PyTorch's memory order.
//   params, grad_params, m, v: flat [P]          input, grad_input: [N, C, H, W] (or [N, F])
//   buffers: flat [max(B, 1)] (running statistics) labels: int32 [N]     output: [N, K]
//   sequence models: input [N, T, F] (token ids: [N, T, 1]), per-step logits [N, T, K]
//   and labels int32 [N, T]; segmentation models: per-pixel logits [N, K, H, W] and
//   labels int32 [N, H, W]; target_loss models (detectors): float targets [N, 2, output];
//   `side`, with every call of a model that reads one (SideInput): for region layers
//   (roi_align, roi_pool) rois float [N, R, 4], for a decoder its words [N, T] (token ids
//   as floats); for models with rnn, lstm or gru layers, `carry`: the recurrent state
//   [N, S] each window starts from and the one after it (S = carried_size())
// forward runs the model in inference mode; gradients and train_step in training mode
// (batch statistics; dropout drawn from `seed`).
#pragma once
#include "runtime/registry.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

enum class Optimizer : int { sgd = 0, momentum, nesterov, adagrad, rmsprop, adam };
// kiln::Error "unknown optimizer 'x' (known: sgd, ...)" for a name that is none of them.
Optimizer parse_optimizer(std::string_view name);
std::string_view optimizer_name(Optimizer o);

// torch.optim's hyper-parameters: beta1 is SGD's momentum or Adam's beta1; beta2 is
// RMSProp's alpha or Adam's beta2.
struct HyperParameters {
  Optimizer optimizer = Optimizer::adam;
  float learning_rate = 1e-3f;
  float weight_decay = 0.0f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
  int step = 1;  // 1 on the first call
  // > 0: the gradient is first clipped to this global L2 norm (clip_grad_norm_).
  float clip_norm = 0.0f;
};
// torch.optim's defaults for an optimizer (learning rate left as given).
HyperParameters defaults_for(Optimizer o, float learning_rate);

// What a batch is judged against: int32 class labels (one per sample, step or pixel, as
// label_shape says) or, for a model whose loss is a target_loss, float targets
// [N, 2, output shape] (target_shape: the target values, then their weights).
struct BatchLabels {
  const int32_t* classes = nullptr;
  const float* targets = nullptr;
  BatchLabels(const int32_t* c) : classes(c) {}
  BatchLabels(const float* t) : targets(t) {}
};

// The recurrent state a window of a sequence starts from and the one after it, per
// sample (carried_state, dsl/layers.hpp: each rnn, lstm and gru layer's h, and lstm's c,
// in node order), for truncated backpropagation through time. in = nullptr: zeros (a
// fresh start); out = nullptr: not returned. in and out may not alias.
struct Carry {
  const float* in = nullptr;
  float* out = nullptr;
};

class Network {
 public:
  Network(const RegisteredModel& model, std::string_view target);
  const ModelView& view() const { return model_->view; }
  long long parameter_count() const { return model_->view.parameter_count; }
  long long sample_size() const { return view().input_shape().elements(); }
  long long output_size() const { return view().output_shape().elements(); }

  // Whether the model has `entry` ("gradients", "train_step") built for this target.
  bool has_entry(std::string_view entry) const { return model_->find_entry(entry, target_) != nullptr; }
  // Floats of target_loss targets per sample (0 for models trained on class labels), and
  // int32 class labels per sample (0 for target_loss models).
  long long targets_size() const;
  long long labels_size() const;
  // What each call takes beside the input as `side`: the region layers' regions float
  // [N, R, 4] (x0, y0, x1, y1 in input pixels), a decoder's words, or nothing.
  SideInput side() const { return side_input(view()); }
  long long side_size() const { return (long long)side().rows * side().columns; }
  long long buffer_floats() const { return std::max<long long>(1, view().buffer_count); }
  // Floats of recurrent state per sample that a window carries to the next (0 without
  // rnn, lstm or gru layers).
  long long carried_size() const { return carried_state(view()); }

  void forward(const float* params, const float* buffers, const float* input, int batch,
               float* output, const float* side = nullptr, Carry carry = {}) const;
  // Where the model looks (models built with the "attention" entry: an attention_lstm's
  // weights [N, T, L] over its grid's L locations at every step, or a spatial
  // transformer's resampled images [N, C, H, W]); inference, as forward.
  void attention(const float* params, const float* buffers, const float* input, int batch,
                 float* attention, const float* side = nullptr, const float* state = nullptr) const;
  float gradients(const float* params, const float* buffers, const float* input,
                  BatchLabels labels, int batch, uint32_t seed, float* grad_params,
                  float* grad_input, const float* side = nullptr, const float* state = nullptr) const;
  // Updates params, m, v and buffers in place; returns the loss before the update.
  float train_step(float* params, float* m, float* v, float* buffers, const float* input,
                   BatchLabels labels, int batch, uint32_t seed, const HyperParameters& h,
                   const float* side = nullptr, Carry carry = {}) const;

 private:
  // An inference entry ("forward", "attention") into `output`, per-sample shape out_shape;
  // carry_out: the entry returns the state after the window.
  void infer(std::string_view entry, Shape out_shape, const float* params, const float* buffers, const float* input,
             int batch, float* output, const float* side, Carry carry, bool carry_out) const;

  const RegisteredModel* model_;
  std::string target_;
};

}  // namespace kiln
