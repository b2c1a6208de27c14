// What the op tests and the model tests share: random tensors with fixed seeds,
// copies between reference tensors (PyTorch order) and Halide buffers (the same memory,
// dims innermost first), and the per-tensor OK / NOT OK comparison (after llm.c).
#pragma once
#include "reference/gradient.hpp"
#include "reference/model.hpp"

#include <Halide.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <string>

namespace kiln::optest {

using reference::Tensor;

// How test data is drawn. Every value is a float32, so the references see exactly the
// numbers the float pipelines see.
enum class Data {
  uniform,         // U(-1, 1)
  wide,            // U(-4, 4): sigmoid, tanh and softmax away from their linear middle
  away_from_zero,  // |v| in [0.1, 1]: relu's kink stays far from the finite-difference steps
  ties,            // multiples of 1/4 in [-1/2, 1/2]: many exact ties (max_pool's tie rule)
};

inline Tensor random_tensor(std::vector<int> shape, std::mt19937& rng, Data data = Data::uniform,
                            double scale = 1.0) {
  Tensor t(std::move(shape));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> quarter(-2, 2);
  for (double& v : t.data) {
    float f = u(rng);
    switch (data) {
      case Data::uniform: break;
      case Data::wide: f *= 4.0f; break;
      case Data::away_from_zero: f = std::copysign(0.1f + 0.9f * std::abs(f), f); break;
      case Data::ties: f = 0.25f * float(quarter(rng)); break;
    }
    v = double(float(f * scale));
  }
  return t;
}

inline std::vector<int> random_labels(int n, int classes, std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, classes - 1);
  std::vector<int> labels(n);
  for (int& l : labels) l = pick(rng);
  return labels;
}

// A Halide buffer for a tensor of PyTorch shape {a, b, c, ...}: extents (..., c, b, a).
inline Halide::Buffer<float> buffer_like(const std::vector<int>& shape) {
  std::vector<int> extents(shape.rbegin(), shape.rend());
  if (extents.empty()) return Halide::Buffer<float>::make_scalar();
  return Halide::Buffer<float>(extents);
}
inline Halide::Buffer<float> buffer_of(const Tensor& t) {
  Halide::Buffer<float> b = buffer_like(t.shape);
  for (std::size_t k = 0; k < t.size(); ++k) b.data()[k] = float(t.data[k]);
  return b;
}
inline Halide::Buffer<int32_t> buffer_of(const std::vector<int>& labels) {
  Halide::Buffer<int32_t> b(int(labels.size()));
  for (std::size_t k = 0; k < labels.size(); ++k) b.data()[k] = labels[k];
  return b;
}
// Random labels for a batch of N logits of per-sample shape s: one per position
// (label_shape), row-major [N, ...], and the same as a Halide buffer (dims innermost first).
inline std::vector<int> random_labels_for(Shape logits, int N, std::mt19937& rng) {
  return random_labels(N * int(label_shape(logits).elements()), class_count(logits), rng);
}
inline Halide::Buffer<int32_t> labels_buffer(const std::vector<int>& labels, Shape logits, int N) {
  const Shape s = label_shape(logits);
  std::vector<int> extents;
  for (int k = s.rank - 1; k >= 0; --k) extents.push_back(s[k]);
  extents.push_back(N);
  Halide::Buffer<int32_t> b(extents);
  for (std::size_t k = 0; k < labels.size(); ++k) b.data()[k] = labels[k];
  return b;
}
// An output buffer, every element NaN, so that anything left unwritten shows.
inline Halide::Buffer<float> nan_buffer(const std::vector<int>& shape) {
  Halide::Buffer<float> b = buffer_like(shape);
  b.fill(std::numeric_limits<float>::quiet_NaN());
  return b;
}
inline std::vector<double> values_of(const Halide::Buffer<float>& b) {
  const float* p = b.data();
  return std::vector<double>(p, p + b.number_of_elements());
}

// The per-sample shape of kiln (outermost first) with the batch in front.
inline std::vector<int> batched(int n, Shape s) {
  std::vector<int> v{n};
  for (int k = 0; k < s.rank; ++k) v.push_back(s[k]);
  return v;
}

enum class Metric {
  elementwise,  // max_k |got_k - want_k| / max(|want_k|, 1): forward values
  scaled,       // max_k |got_k - want_k| / max_k |want_k|: gradients against finite differences
};

// The largest error of `got` against `want`; infinite if any element is NaN or infinite
// (an output element left unwritten shows as NaN). Prints one OK / NOT OK line.
// scale_floor: the least scale of Metric::scaled, for a part of a larger gradient whose
// own values may all be zero (a bias before batch norm), judged on the whole's scale.
inline double compare(const std::string& what, const std::vector<double>& got,
                      const std::vector<double>& want, Metric metric, double tolerance,
                      double scale_floor = 0) {
  REQUIRE(got.size() == want.size());
  double scale = scale_floor;
  for (double w : want) scale = std::max(scale, std::abs(w));
  double err = 0;
  std::size_t worst = 0, bad = 0;
  for (std::size_t k = 0; k < got.size(); ++k) {
    double e = std::abs(got[k] - want[k]);
    e /= metric == Metric::elementwise ? std::max(std::abs(want[k]), 1.0) : std::max(scale, 1e-30);
    if (!std::isfinite(got[k])) e = std::numeric_limits<double>::infinity();
    if (!(e <= tolerance)) ++bad;
    if (!(e <= err)) { err = e; worst = k; }
  }
  const bool ok = err <= tolerance;
  std::printf("%-7s %-58s max err %.2e (tol %.0e, |want| <= %.2g, %zu values)", ok ? "OK" : "NOT OK",
              what.c_str(), err, tolerance, scale, got.size());
  if (!ok)
    std::printf("  %zu bad; worst [%zu]: got %.9g want %.9g", bad, worst, got[worst], want[worst]);
  std::printf("\n");
  INFO(what << ": max err " << err << " > " << tolerance << " (" << bad << " of " << got.size()
             << " bad; worst [" << worst << "] got " << got[worst] << " want " << want[worst] << ")");
  CHECK(ok);
  return err;
}

// Forward values in float32 against double: per element, relative above 1, absolute below.
inline constexpr double forward_tolerance = 1e-5;
// Float32 adjoints against double central differences, relative to the largest gradient.
inline constexpr double gradient_tolerance = 1e-4;

}  // namespace kiln::optest
