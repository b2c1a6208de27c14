// What the tests of built models share.
#pragma once
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "reference/ops.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace kiln::modeltest {

// A batch of n samples of shape s as a reference tensor {n, s...}.
inline reference::Tensor batch_tensor(const std::vector<double>& data, int n, Shape s) {
  std::vector<int> shape{n};
  for (int k = 0; k < s.rank; ++k) shape.push_back(s[k]);
  reference::Tensor t(shape);
  t.data = data;
  return t;
}

// A build's output against a double reference: max_k |got_k - want_k| /
// max(max_k |want_k|, floor); infinite for a non-finite value.
inline double scaled_error(const std::vector<float>& got, const std::vector<double>& want, double floor = 1e-3) {
  double err = 0, scale = floor;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (std::size_t k = 0; k < got.size(); ++k) {
    if (!std::isfinite(got[k])) return INFINITY;
    err = std::max(err, std::abs(got[k] - want[k]));
  }
  return err / scale;
}

// Each parameter tensor's slice of a build's flat gradient against its slice of the
// numerical one: scaled_error below 1e-4, per tensor (a small tensor's error is not
// hidden by a large one's scale).
inline void check_parameter_gradients(const ModelView& view, const std::vector<float>& grad,
                                      const std::vector<double>& numeric) {
  for (const Parameter& t : view.parameters) {
    INFO(std::string(t.name.view()));
    const auto first = std::ptrdiff_t(t.offset), last = first + std::ptrdiff_t(t.size());
    CHECK(scaled_error({grad.begin() + first, grad.begin() + last}, {numeric.begin() + first, numeric.begin() + last}) <
          1e-4);
  }
}

// max_k |a_k - b_k| / max_k |b_k|: two builds' outputs, b the reference one; infinite
// when either holds a non-finite value (an element left unwritten, filled with NaN).
inline double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!std::isfinite(a[k]) || !std::isfinite(b[k])) return INFINITY;
    diff = std::max(diff, double(std::abs(a[k] - b[k])));
    scale = std::max(scale, double(std::abs(b[k])));
  }
  return scale > 0 ? diff / scale : diff;
}

// Two builds of one model (two policies, or two targets) on the same weights and
// batches: every output element of the three entries must agree, b the reference. A
// schedule or a target changes speed, never numbers (beyond float summation order).
// Outputs start as NaN, so an element no build wrote fails. Batches: by default 1, 3 and
// 17 (none, fewer than one and more than one AVX-512 vector of samples). A model built
// with a forward entry only is checked on that. Gradients (and the step's momentum) must
// agree to gradient_tolerance relative to each tensor's largest element, the weights
// after a step to a tenth of it.
inline constexpr double gradient_tolerance_default = 1e-4;
inline void check_same_numbers(const Network& a, const Network& b,
                               std::initializer_list<int> batches = {1, 3, 17},
                               double gradient_tolerance = gradient_tolerance_default) {
  Parameters params(a.view());
  params.initialize(5);
  const std::size_t P = params.size();
  const std::size_t outputs = std::size_t(a.view().output_shape().elements());
  for (const int n : batches) {
    INFO("batch " << n);
    const std::size_t sample = std::size_t(a.sample_size());
    std::vector<float> images(n * sample);
    // One label per position of the logits (per sample, step or pixel), or a
    // target_loss's targets and weights, both in [0, 1).
    const Shape logits = a.view().output_shape();
    std::vector<int32_t> labels(n * a.labels_size());
    std::vector<float> targets(n * a.targets_size());
    for (std::size_t k = 0; k < images.size(); ++k) images[k] = float((k * 104729) % 997) / 997.0f - 0.3f;
    for (std::size_t k = 0; k < labels.size(); ++k) labels[k] = int32_t(k * 7 % class_count(logits));
    for (std::size_t k = 0; k < targets.size(); ++k) targets[k] = float((k * 31) % 17) / 17.0f;
    const BatchLabels truth = targets.empty() ? BatchLabels(labels.data()) : BatchLabels(targets.data());

    std::vector<float> out_a(n * outputs, NAN), out_b(n * outputs, NAN);
    a.forward(params.data(), params.buffers(), images.data(), n, out_a.data());
    b.forward(params.data(), params.buffers(), images.data(), n, out_b.data());
    CHECK(max_relative_difference(out_a, out_b) < 1e-5);
    if (!a.has_entry("gradients")) continue;

    std::vector<float> gp_a(P, NAN), gp_b(P, NAN), gi_a(images.size(), NAN), gi_b(images.size(), NAN);
    const float loss_a = a.gradients(params.data(), params.buffers(), images.data(), truth, n, 0, gp_a.data(), gi_a.data());
    const float loss_b = b.gradients(params.data(), params.buffers(), images.data(), truth, n, 0, gp_b.data(), gi_b.data());
    CHECK(loss_a == Approx(loss_b).epsilon(1e-5));
    // Per parameter tensor, so that a wrong one is named even where it is small.
    for (const Parameter& p : a.view().parameters) {
      INFO(std::string(p.name.view()));
      const auto first = std::ptrdiff_t(p.offset), last = first + std::ptrdiff_t(p.size());
      CHECK(max_relative_difference({gp_a.begin() + first, gp_a.begin() + last},
                                    {gp_b.begin() + first, gp_b.begin() + last}) < gradient_tolerance);
    }
    CHECK(max_relative_difference(gi_a, gi_b) < gradient_tolerance);

    if (!a.has_entry("train_step")) continue;
    Parameters p_a = params, p_b = params;
    std::vector<float> m_a(P), v_a(P), m_b(P), v_b(P);
    // Momentum, not Adam: Adam's first step moves a weight by about lr * sign(g), so a
    // gradient that is zero up to summation order could flip.
    const HyperParameters h = defaults_for(Optimizer::momentum, 1e-2f);
    const float step_a = a.train_step(p_a.data(), m_a.data(), v_a.data(), p_a.buffers(), images.data(), truth, n, 0, h);
    const float step_b = b.train_step(p_b.data(), m_b.data(), v_b.data(), p_b.buffers(), images.data(), truth, n, 0, h);
    CHECK(step_a == Approx(loss_b).epsilon(1e-5));
    CHECK(step_b == Approx(loss_b).epsilon(1e-5));
    // The step moves the weights by lr times the gradient (m): a tenth of its bar.
    CHECK(max_relative_difference({p_a.values().begin(), p_a.values().end()},
                                  {p_b.values().begin(), p_b.values().end()}) < gradient_tolerance / 10);
    CHECK(max_relative_difference(m_a, m_b) < gradient_tolerance);
    // The buffers after the step: batch norm's running statistics and count.
    CHECK(max_relative_difference({p_a.buffers(), p_a.buffers() + a.buffer_floats()},
                                  {p_b.buffers(), p_b.buffers() + b.buffer_floats()}) < 1e-5);
  }
}

}  // namespace kiln::modeltest
