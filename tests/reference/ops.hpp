// Naive double-precision references of every kiln op, independent of Halide: plain
// loops over std::vector<double> in PyTorch's memory order (NCHW for images, NF for
// flat tensors), written from the formulas PyTorch documents, not from generators/.
// They are slow on purpose: each line should be checkable against the formula by eye.
#pragma once
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <vector>

namespace kiln::reference {

// A tensor in PyTorch order: shape outermost first, {N, C, H, W} or {N, F}; row-major data.
struct Tensor {
  std::vector<int> shape;
  std::vector<double> data;

  Tensor() = default;
  explicit Tensor(std::vector<int> s) : shape(std::move(s)), data(count(shape), 0.0) {}

  static std::size_t count(const std::vector<int>& s) {
    std::size_t n = 1;
    for (int d : s) n *= std::size_t(d);
    return n;
  }
  std::size_t size() const { return data.size(); }
  int dim(int k) const { return shape[k]; }
  // Images (N, C, H, W).
  double& at(int n, int c, int y, int x) {
    return data[((std::size_t(n) * shape[1] + c) * shape[2] + y) * shape[3] + x];
  }
  double at(int n, int c, int y, int x) const {
    return data[((std::size_t(n) * shape[1] + c) * shape[2] + y) * shape[3] + x];
  }
  // Flat (N, F), or any 2-D tensor such as a dense weight [O, F].
  double& at(int n, int i) { return data[std::size_t(n) * shape[1] + i]; }
  double at(int n, int i) const { return data[std::size_t(n) * shape[1] + i]; }
};

// A convolution or pooling window: kernel, stride, zero padding on both sides, and
// (conv2d only) dilation, the spacing of the kernel's taps.
struct Window {
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};
inline int window_out(int n, int k, int s, int p, int d = 1) {
  return (n + 2 * p - d * (k - 1) - 1) / s + 1;
}

// in (N, C, H, W), weight (O, C / groups, KH, KW), bias (O) or none -> (N, O, OH, OW);
// cross-correlation with zero padding, as torch.nn.functional.conv2d:
//   out[n, o, oy, ox] = bias[o] + sum_{c, ky, kx} weight[o, c, ky, kx]
//                       in[n, g(o) C/groups + c, oy sh + ky dh - ph, ox sw + kx dw - pw]
// where g(o) = o / (O / groups) is the group of output channel o.
inline Tensor conv2d(const Tensor& in, const Tensor& weight, const Tensor* bias, Window w,
                     int groups = 1) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3), O = weight.dim(0);
  const int Cg = C / groups, Og = O / groups;
  assert(C % groups == 0 && O % groups == 0);
  assert(weight.dim(1) == Cg && weight.dim(2) == w.kh && weight.dim(3) == w.kw);
  const int OH = window_out(H, w.kh, w.sh, w.ph, w.dh), OW = window_out(W, w.kw, w.sw, w.pw, w.dw);
  Tensor out({N, O, OH, OW});
  auto wt = [&](int o, int c, int ky, int kx) {
    return weight.data[((std::size_t(o) * Cg + c) * w.kh + ky) * w.kw + kx];
  };
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < O; ++o)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          double s = bias ? bias->data[o] : 0.0;
          const int first = (o / Og) * Cg;  // the group's first input channel
          for (int c = 0; c < Cg; ++c)
            for (int ky = 0; ky < w.kh; ++ky)
              for (int kx = 0; kx < w.kw; ++kx) {
                const int y = oy * w.sh + ky * w.dh - w.ph, x = ox * w.sw + kx * w.dw - w.pw;
                if (y < 0 || y >= H || x < 0 || x >= W) continue;  // zero padding
                s += wt(o, c, ky, kx) * in.at(n, first + c, y, x);
              }
          out.at(n, o, oy, ox) = s;
        }
  return out;
}

// in (N, C, H, W) -> (N, C, OH, OW). Padding is -inf (never the maximum). On ties the
// first maximum in row-major window order wins, as PyTorch; `argmax`, if given, gets
// the flat input index of each output's winner.
inline Tensor max_pool(const Tensor& in, Window w, std::vector<std::size_t>* argmax = nullptr) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3);
  const int OH = window_out(H, w.kh, w.sh, w.ph), OW = window_out(W, w.kw, w.sw, w.pw);
  Tensor out({N, C, OH, OW});
  if (argmax) argmax->assign(out.size(), 0);
  std::size_t k = 0;
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox, ++k) {
          double best = -std::numeric_limits<double>::infinity();
          std::size_t at = 0;
          for (int ky = 0; ky < w.kh; ++ky)
            for (int kx = 0; kx < w.kw; ++kx) {
              const int y = oy * w.sh + ky - w.ph, x = ox * w.sw + kx - w.pw;
              if (y < 0 || y >= H || x < 0 || x >= W) continue;  // -inf padding
              if (in.at(n, c, y, x) > best) {  // strict: the first maximum stays
                best = in.at(n, c, y, x);
                at = ((std::size_t(n) * C + c) * H + y) * W + x;
              }
            }
          out.data[k] = best;
          if (argmax) (*argmax)[k] = at;
        }
  return out;
}

// The adjoint of max_pool: each output's gradient goes to its window's first maximum.
// Exact even with ties, where finite differences are not defined.
inline Tensor max_pool_backward(const Tensor& in, Window w, const Tensor& d_out) {
  std::vector<std::size_t> argmax;
  max_pool(in, w, &argmax);
  Tensor d_in(in.shape);
  for (std::size_t k = 0; k < d_out.size(); ++k) d_in.data[argmax[k]] += d_out.data[k];
  return d_in;
}

// in (N, C, H, W) -> (N, C, OH, OW): window sum / (KH KW), padding counted as zeros
// (PyTorch's count_include_pad=True).
inline Tensor avg_pool(const Tensor& in, Window w) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3);
  const int OH = window_out(H, w.kh, w.sh, w.ph), OW = window_out(W, w.kw, w.sw, w.pw);
  Tensor out({N, C, OH, OW});
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          double s = 0;
          for (int ky = 0; ky < w.kh; ++ky)
            for (int kx = 0; kx < w.kw; ++kx) {
              const int y = oy * w.sh + ky - w.ph, x = ox * w.sw + kx - w.pw;
              if (y >= 0 && y < H && x >= 0 && x < W) s += in.at(n, c, y, x);
            }
          out.at(n, c, oy, ox) = s / (w.kh * w.kw);
        }
  return out;
}

// in (N, F), weight (O, F), bias (O) or none -> (N, O): out = in weight^T + bias (nn.Linear).
inline Tensor dense(const Tensor& in, const Tensor& weight, const Tensor* bias) {
  const int N = in.dim(0), F = in.dim(1), O = weight.dim(0);
  assert(weight.dim(1) == F);
  Tensor out({N, O});
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < O; ++o) {
      double s = bias ? bias->data[o] : 0.0;
      for (int i = 0; i < F; ++i) s += weight.at(o, i) * in.at(n, i);
      out.at(n, o) = s;
    }
  return out;
}

// (N, C, H, W) -> (N, C H W) in memory order, as torch.flatten(x, 1); (N, F) unchanged.
inline Tensor flatten(const Tensor& in) {
  Tensor out({in.dim(0), int(in.size() / in.dim(0))});
  out.data = in.data;
  return out;
}

template <class F>
Tensor map(const Tensor& in, F f) {
  Tensor out(in.shape);
  for (std::size_t k = 0; k < in.size(); ++k) out.data[k] = f(in.data[k]);
  return out;
}
inline Tensor relu(const Tensor& in) { return map(in, [](double v) { return v > 0 ? v : 0.0; }); }
inline Tensor sigmoid(const Tensor& in) {
  return map(in, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
}
inline Tensor tanh(const Tensor& in) { return map(in, [](double v) { return std::tanh(v); }); }
// nn.LeakyReLU(negative_slope): v > 0 ? v : slope v.
inline Tensor leaky_relu(const Tensor& in, double slope) {
  return map(in, [&](double v) { return v > 0 ? v : slope * v; });
}
// nn.ELU(alpha): v > 0 ? v : alpha (e^v - 1).
inline Tensor elu(const Tensor& in, double alpha) {
  return map(in, [&](double v) { return v > 0 ? v : alpha * std::expm1(v); });
}

// nn.PReLU(num_parameters=C): in (N, C, H, W) or (N, C), weight (C);
// v > 0 ? v : weight[c] v, with c the channel (dim 1) of each element.
inline Tensor prelu(const Tensor& in, const Tensor& weight) {
  const int N = in.dim(0), C = in.dim(1);
  assert(int(weight.size()) == C);
  const std::size_t per_channel = in.size() / (std::size_t(N) * C);  // H W, or 1
  Tensor out(in.shape);
  for (std::size_t k = 0; k < in.size(); ++k) {
    const int c = int(k / per_channel % C);
    const double v = in.data[k];
    out.data[k] = v > 0 ? v : weight.data[c] * v;
  }
  return out;
}

// in (N, C, H, W) -> (N, C): the mean of each channel over H x W
// (nn.AdaptiveAvgPool2d(1) followed by torch.flatten(x, 1)).
inline Tensor global_avg_pool(const Tensor& in) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3);
  Tensor out({N, C});
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double s = 0;
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) s += in.at(n, c, y, x);
      out.at(n, c) = s / (H * W);
    }
  return out;
}

// maxout(k): in (N, C, H, W) -> (N, C / k, H, W), or (N, F) -> (N, F / k);
//   out[n, j, ...] = max_{r < k} in[n, j k + r, ...]
// as x.view(N, C / k, k, H, W).max(2) in PyTorch. `argmax`, if given, gets the flat input
// index of each output's winner: the first maximum (lowest r) on ties, as torch.max.
inline Tensor maxout(const Tensor& in, int k, std::vector<std::size_t>* argmax = nullptr) {
  const int N = in.dim(0), C = in.dim(1);
  assert(C % k == 0);
  const std::size_t per_channel = in.size() / (std::size_t(N) * C);  // H W, or 1
  std::vector<int> shape = in.shape;
  shape[1] = C / k;
  Tensor out(shape);
  if (argmax) argmax->assign(out.size(), 0);
  for (int n = 0; n < N; ++n)
    for (int j = 0; j < C / k; ++j)
      for (std::size_t p = 0; p < per_channel; ++p) {
        const std::size_t o = (std::size_t(n) * (C / k) + j) * per_channel + p;
        double best = -std::numeric_limits<double>::infinity();
        std::size_t at = 0;
        for (int r = 0; r < k; ++r) {
          const std::size_t i = (std::size_t(n) * C + j * k + r) * per_channel + p;
          if (in.data[i] > best) {  // strict: the first maximum stays
            best = in.data[i];
            at = i;
          }
        }
        out.data[o] = best;
        if (argmax) (*argmax)[o] = at;
      }
  return out;
}

// The adjoint of maxout: each output's gradient goes to its first maximal input.
// Exact even with ties, where finite differences are not defined.
inline Tensor maxout_backward(const Tensor& in, int k, const Tensor& d_out) {
  std::vector<std::size_t> argmax;
  maxout(in, k, &argmax);
  Tensor d_in(in.shape);
  for (std::size_t o = 0; o < d_out.size(); ++o) d_in.data[argmax[o]] += d_out.data[o];
  return d_in;
}

inline Tensor add(const Tensor& a, const Tensor& b) {
  if (a.shape != b.shape) throw std::invalid_argument("reference::add: shapes differ");
  Tensor out(a.shape);
  for (std::size_t k = 0; k < a.size(); ++k) out.data[k] = a.data[k] + b.data[k];
  return out;
}

// Images (N, C_k, H, W) joined along channels, in order (torch.cat(xs, 1)).
inline Tensor concat(const std::vector<const Tensor*>& parts) {
  const int N = parts[0]->dim(0), H = parts[0]->dim(2), W = parts[0]->dim(3);
  int C = 0;
  for (const Tensor* t : parts) C += t->dim(1);
  Tensor out({N, C, H, W});
  for (int n = 0; n < N; ++n) {
    int c0 = 0;
    for (const Tensor* t : parts) {
      for (int c = 0; c < t->dim(1); ++c)
        for (int y = 0; y < H; ++y)
          for (int x = 0; x < W; ++x) out.at(n, c0 + c, y, x) = t->at(n, c, y, x);
      c0 += t->dim(1);
    }
  }
  return out;
}

// logits (N, K), labels[n] in [0, K) -> mean over n of -log softmax(logits[n])[label[n]]
// (nn.CrossEntropyLoss with reduction='mean').
inline double softmax_cross_entropy(const Tensor& logits, const std::vector<int>& labels) {
  const int N = logits.dim(0), K = logits.dim(1);
  double total = 0;
  for (int n = 0; n < N; ++n) {
    double m = -std::numeric_limits<double>::infinity();
    for (int k = 0; k < K; ++k) m = std::max(m, logits.at(n, k));
    double s = 0;
    for (int k = 0; k < K; ++k) s += std::exp(logits.at(n, k) - m);
    total += m + std::log(s) - logits.at(n, labels[n]);
  }
  return total / N;
}

// sum_k a_k b_k: the scalar objective sum(out * R) whose gradient is the adjoint for d_out = R.
inline double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += a.data[k] * b.data[k];
  return s;
}

}  // namespace kiln::reference
