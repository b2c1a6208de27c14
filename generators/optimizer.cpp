#include "generators/optimizer.hpp"

namespace kiln::gen {
using namespace Halide;

Func optimizer_update(const Func& params, const Func& grad, const Func& m, const Func& v,
                      const HyperParameters& h) {
  const Var j = dims().i;
  Expr p = params(j), g = grad(j) + h.weight_decay * params(j), m0 = m(j), v0 = v(j);
  Expr lr = h.learning_rate, b1 = h.beta1, b2 = h.beta2, eps = h.epsilon;

  Expr m_momentum = b1 * m0 + g;
  Expr v_adagrad = v0 + g * g;
  Expr v_rms = b2 * v0 + (1.0f - b2) * g * g;
  Expr m_adam = b1 * m0 + (1.0f - b1) * g;
  Expr t = cast<float>(h.step);
  Expr m_hat = m_adam / (1.0f - pow(b1, t));
  Expr v_hat = v_rms / (1.0f - pow(b2, t));

  const Expr kind = h.optimizer;
  auto is = [&](OptimizerKind k) { return kind == int(k); };
  Expr new_p = select(is(OptimizerKind::sgd), p - lr * g,
                      is(OptimizerKind::momentum), p - lr * m_momentum,
                      is(OptimizerKind::nesterov), p - lr * (g + b1 * m_momentum),
                      is(OptimizerKind::adagrad), p - lr * g / (sqrt(v_adagrad) + eps),
                      is(OptimizerKind::rmsprop), p - lr * g / (sqrt(v_rms) + eps),
                      p - lr * m_hat / (sqrt(v_hat) + eps));
  Expr new_m = select(is(OptimizerKind::momentum) || is(OptimizerKind::nesterov), m_momentum,
                      is(OptimizerKind::adam), m_adam, m0);
  Expr new_v = select(is(OptimizerKind::adagrad), v_adagrad,
                      is(OptimizerKind::rmsprop) || is(OptimizerKind::adam), v_rms, v0);
  Func updated("updated");
  updated(j) = Tuple(new_p, new_m, new_v);
  return updated;
}

}  // namespace kiln::gen
