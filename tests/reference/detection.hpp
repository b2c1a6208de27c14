// Double-precision references for the detection losses, written from their textbook
// definitions (not from the lowering's stable forms).
#pragma once
#include "reference/ops.hpp"

#include <cmath>

namespace kiln::reference {

// One element's loss of kind k: output x, target t.
inline double element_loss(LossKind k, double x, double t, double beta) {
  const double d = x - t;
  switch (k) {
    case LossKind::squared: return d * d;
    case LossKind::smooth_l1: return std::abs(d) < beta ? 0.5 * d * d / beta : std::abs(d) - 0.5 * beta;
    case LossKind::logistic: {
      const double p = 1.0 / (1.0 + std::exp(-x));
      return -(t * std::log(p) + (1 - t) * std::log(1 - p));
    }
  }
  return NAN;
}

// target_loss(node) of outputs x [N, C, H, W] or [N, F] against targets [N, 2, ...]
// (values, then weights): the weighted sum of every element's loss over N.
inline double target_loss(const Node& node, const Tensor& x, const Tensor& targets) {
  const int N = x.dim(0), C = x.dim(1);
  const std::size_t per_sample = x.size() / N, per_channel = per_sample / C;
  double total = 0;
  for (int n = 0; n < N; ++n)
    for (std::size_t e = 0; e < per_sample; ++e) {
      const int c = int(e / per_channel);
      const double t = targets.data[(2 * std::size_t(n)) * per_sample + e];
      const double w = targets.data[(2 * std::size_t(n) + 1) * per_sample + e];
      total += w * element_loss(node.loss_kinds[c % node.kind_count], x.data[n * per_sample + e], t, node.alpha);
    }
  return total / N;
}

}  // namespace kiln::reference
