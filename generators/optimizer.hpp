// Optimizer updates over the flat buffers: one elementwise pass over params, the
// gradient and the state that mirrors them. Update rules follow torch.optim so that
// runs can be compared step for step:
//   g  = grad + weight_decay p
//   sgd       p -= lr g
//   momentum  m = beta1 m + g;                 p -= lr m
//   nesterov  m = beta1 m + g;                 p -= lr (g + beta1 m)
//   adagrad   v = v + g^2;                     p -= lr g / (sqrt(v) + eps)
//   rmsprop   v = beta2 v + (1 - beta2) g^2;   p -= lr g / (sqrt(v) + eps)
//   adam      m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
//             p -= lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
#pragma once
#include "generators/lowering.hpp"

namespace kiln::gen {

// The numbering the generated train_step's `optimizer` argument uses.
enum class OptimizerKind : int { sgd = 0, momentum, nesterov, adagrad, rmsprop, adam };
inline constexpr int optimizer_kinds = 6;

struct HyperParameters {
  Expr optimizer;  // int, an OptimizerKind
  Expr learning_rate, weight_decay, beta1, beta2, epsilon;
  Expr step;  // int, 1 for the first step (Adam's bias correction)
  // > 0: the gradient is first scaled by min(1, clip_norm / (||grad||_2 + 1e-6)), as
  // torch.nn.utils.clip_grad_norm_ (before weight decay is added).
  Expr clip_norm = 0.0f;
};

// updated(j) = {new param, new m, new v} for the flat index j of `count` parameters;
// norm() the gradient's squared L2 norm, summed from norm_partial(b), b < ceil(count / 256).
// Without `clipping`, clip_norm is ignored: Halide 14's Mullapudi2016 autoscheduler fails
// an internal assertion ("iter != m.end()") on any pipeline holding the norm, so builds it
// schedules leave it out (and the runtime refuses clip_norm for them).
struct OptimizerFuncs {
  Func updated, norm_partial, norm;
};
OptimizerFuncs optimizer_update(const Func& params, const Func& grad, const Func& m, const Func& v,
                                const HyperParameters& h, int count, bool clipping);

}  // namespace kiln::gen
