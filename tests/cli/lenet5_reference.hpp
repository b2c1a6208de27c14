// LeNet-5 forward in double precision, written plainly from PyTorch's definition, to
// check `kiln forward` against (test_forward.cpp) and to turn its logits into the loss
// (test_gradient_check.cpp).
//   conv1 Conv2d(1, 6, 5, padding=2), relu, max_pool2d(2)    [1,28,28] -> [6,14,14]
//   conv2 Conv2d(6, 16, 5), relu, max_pool2d(2)              -> [16,5,5]
//   flatten (C, H, W) -> fc1 Linear(400, 120), relu -> fc2 Linear(120, 84), relu
//   -> fc3 Linear(84, 10)                                    -> logits [10]
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "cli/support.hpp"

namespace kiln::test {

// x [C, H, W], w [O, C, K, K], b [O] -> [O, H + 2 pad - K + 1, W + 2 pad - K + 1], relu'd.
inline std::vector<double> conv_relu(const std::vector<double>& x, int C, int H, int W,
                                     const std::vector<float>& w, const std::vector<float>& b,
                                     int O, int K, int pad) {
  const int OH = H + 2 * pad - K + 1, OW = W + 2 * pad - K + 1;
  std::vector<double> y(size_t(O) * OH * OW);
  for (int o = 0; o < O; ++o)
    for (int i = 0; i < OH; ++i)
      for (int j = 0; j < OW; ++j) {
        double s = b[o];
        for (int c = 0; c < C; ++c)
          for (int u = 0; u < K; ++u)
            for (int v = 0; v < K; ++v) {
              const int r = i + u - pad, q = j + v - pad;
              if (r >= 0 && r < H && q >= 0 && q < W)
                s += double(w[((size_t(o) * C + c) * K + u) * K + v]) * x[(size_t(c) * H + r) * W + q];
            }
        y[(size_t(o) * OH + i) * OW + j] = std::max(s, 0.0);
      }
  return y;
}

// x [C, H, W] -> [C, H/2, W/2], 2x2 windows, stride 2.
inline std::vector<double> max_pool2(const std::vector<double>& x, int C, int H, int W) {
  std::vector<double> y(size_t(C) * (H / 2) * (W / 2));
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < H / 2; ++i)
      for (int j = 0; j < W / 2; ++j) {
        const double* p = &x[(size_t(c) * H + 2 * i) * W + 2 * j];
        y[(size_t(c) * (H / 2) + i) * (W / 2) + j] = std::max({p[0], p[1], p[W], p[W + 1]});
      }
  return y;
}

// x [I], w [O, I], b [O] -> [O], relu'd when asked.
inline std::vector<double> linear(const std::vector<double>& x, const std::vector<float>& w,
                                  const std::vector<float>& b, bool relu) {
  std::vector<double> y(b.size());
  for (size_t o = 0; o < b.size(); ++o) {
    double s = b[o];
    for (size_t i = 0; i < x.size(); ++i) s += double(w[o * x.size() + i]) * x[i];
    y[o] = relu ? std::max(s, 0.0) : s;
  }
  return y;
}

// One image [1, 28, 28] -> logits [10].
inline std::vector<double> lenet5_logits(const Weights& w, const float* image) {
  std::vector<double> x(image, image + 784);
  x = max_pool2(conv_relu(x, 1, 28, 28, w.at("conv1.weight"), w.at("conv1.bias"), 6, 5, 2), 6, 28, 28);
  x = max_pool2(conv_relu(x, 6, 14, 14, w.at("conv2.weight"), w.at("conv2.bias"), 16, 5, 0), 16, 10, 10);
  x = linear(x, w.at("fc1.weight"), w.at("fc1.bias"), true);
  x = linear(x, w.at("fc2.weight"), w.at("fc2.bias"), true);
  return linear(x, w.at("fc3.weight"), w.at("fc3.bias"), false);
}

// Cross-entropy of one row of logits [k] against its label: logsumexp(z) - z[label].
template <class T>
double cross_entropy(const T* z, int k, int label) {
  const double m = *std::max_element(z, z + k);
  double total = 0;
  for (int j = 0; j < k; ++j) total += std::exp(double(z[j]) - m);
  return m + std::log(total) - double(z[label]);
}

}  // namespace kiln::test
