#include "generators/optimizer.hpp"

namespace kiln::gen {
using namespace Halide;

OptimizerFuncs optimizer_update(const Func& params, const Func& grad, const Func& m,
                                const Func& v, const HyperParameters& h, int count, bool clipping) {
  const Var j = dims().i;
  // The gradient's squared norm in two stages: `columns` partial sums, column b summing
  // elements b, b + columns, ... (contiguous across b), then their total.
  const int rows = 256, columns = (count + rows - 1) / rows;
  OptimizerFuncs out{Func("updated"), Func("grad_norm_partial"), Func("grad_norm")};
  RDom r(0, rows, "r_norm_rows");
  Expr at = r * columns + j;
  out.norm_partial(j) = 0.0f;
  out.norm_partial(j) += select(at < count, grad(min(at, count - 1)) * grad(min(at, count - 1)), 0.0f);
  RDom b(0, columns, "r_norm_columns");
  out.norm() = 0.0f;
  out.norm() += out.norm_partial(b);
  Expr scale = select(h.clip_norm > 0.0f, min(1.0f, h.clip_norm / (sqrt(out.norm()) + 1e-6f)), 1.0f);
  if (!clipping) scale = 1.0f;
  Expr p = params(j), g = grad(j) * scale + h.weight_decay * params(j), m0 = m(j), v0 = v(j);
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
  out.updated(j) = Tuple(new_p, new_m, new_v);
  return out;
}

}  // namespace kiln::gen
