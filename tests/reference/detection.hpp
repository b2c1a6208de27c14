// Double-precision references for the detection ops: the losses written from their
// textbook definitions (not from the lowering's stable forms), RoI align one sample at a
// time and RoI pooling one bin at a time, as torchvision's CPU kernels compute them.
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

// target_loss(node) of outputs x [N, C, H, W], [N, F] or [N, T, F] against targets
// [N, 2, ...] (values, then weights): the weighted sum of every element's loss over N.
inline double target_loss(const Node& node, const Tensor& x, const Tensor& targets) {
  const int N = x.dim(0);
  const std::size_t per_sample = x.size() / N;
  // The channel of element e: its C index of an image, its feature of the others.
  auto channel = [&](std::size_t e) {
    if (x.shape.size() == 4) return int(e / (std::size_t(x.dim(2)) * x.dim(3)));
    return int(e % std::size_t(x.shape.back()));
  };
  double total = 0;
  for (int n = 0; n < N; ++n)
    for (std::size_t e = 0; e < per_sample; ++e) {
      const int c = channel(e);
      const double t = targets.data[(2 * std::size_t(n)) * per_sample + e];
      const double w = targets.data[(2 * std::size_t(n) + 1) * per_sample + e];
      total += w * element_loss(node.loss_kinds[c % node.kind_count], x.data[n * per_sample + e], t, node.alpha);
    }
  return total / N;
}

// roi_align(node) of features [N, C, H, W] and regions [N, R, 4] (x0, y0, x1, y1 in
// input pixels): [N, R, C P P], written after torchvision's roi_align (aligned=True)
// one sample at a time.
inline double bilinear_sample(const Tensor& f, int n, int c, double y, double x) {
  const int H = f.dim(2), W = f.dim(3);
  if (y < -1.0 || y > H || x < -1.0 || x > W) return 0;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int y0 = int(y), x0 = int(x), y1, x1;
  if (y0 >= H - 1) { y0 = y1 = H - 1; y = y0; } else { y1 = y0 + 1; }
  if (x0 >= W - 1) { x0 = x1 = W - 1; x = x0; } else { x1 = x0 + 1; }
  const double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  return hy * hx * f.at(n, c, y0, x0) + hy * lx * f.at(n, c, y0, x1) + ly * hx * f.at(n, c, y1, x0) +
         ly * lx * f.at(n, c, y1, x1);
}
inline Tensor roi_align(const Node& node, const Tensor& f, const Tensor& rois) {
  const int N = f.dim(0), C = f.dim(1), R = node.units, P = node.kernel_h, S = node.stride_h;
  const double scale = node.alpha;
  Tensor out({N, R, C * P * P});
  for (int n = 0; n < N; ++n)
    for (int r = 0; r < R; ++r) {
      const double* box = &rois.data[(std::size_t(n) * R + r) * 4];
      const double x0 = box[0] * scale - 0.5, y0 = box[1] * scale - 0.5;
      const double bw = (box[2] * scale - 0.5 - x0) / P, bh = (box[3] * scale - 0.5 - y0) / P;
      for (int c = 0; c < C; ++c)
        for (int ph = 0; ph < P; ++ph)
          for (int pw = 0; pw < P; ++pw) {
            double total = 0;
            for (int iy = 0; iy < S; ++iy)
              for (int ix = 0; ix < S; ++ix)
                total += bilinear_sample(f, n, c, y0 + ph * bh + (iy + 0.5) * bh / S,
                                         x0 + pw * bw + (ix + 0.5) * bw / S);
            out.data[((std::size_t(n) * R + r) * C + c) * P * P + ph * P + pw] = total / (S * S);
          }
    }
  return out;
}

// roi_pool(node)'s bins over features [N, C, H, W] and regions [N, R, 4]: for each
// output element [N, R, C P P], the index into f.data of its bin's first maximum in
// row-major order, or -1 for an empty bin. Bin edges in float, as torchvision's kernel
// computes them (they decide which pixels a bin holds).
inline std::vector<long> roi_pool_argmax(const Node& node, const Tensor& f, const Tensor& rois) {
  const int N = f.dim(0), C = f.dim(1), H = f.dim(2), W = f.dim(3), R = node.units, P = node.kernel_h;
  const float scale = node.alpha;
  std::vector<long> at(std::size_t(N) * R * C * P * P);
  for (int n = 0; n < N; ++n)
    for (int r = 0; r < R; ++r) {
      const double* box = &rois.data[(std::size_t(n) * R + r) * 4];
      const int x0 = int(std::round(float(box[0]) * scale)), y0 = int(std::round(float(box[1]) * scale));
      const int x1 = int(std::round(float(box[2]) * scale)), y1 = int(std::round(float(box[3]) * scale));
      const float bw = float(std::max(x1 - x0 + 1, 1)) / float(P), bh = float(std::max(y1 - y0 + 1, 1)) / float(P);
      for (int ph = 0; ph < P; ++ph)
        for (int pw = 0; pw < P; ++pw) {
          const int ys = std::clamp(int(std::floor(float(ph) * bh)) + y0, 0, H);
          const int ye = std::clamp(int(std::ceil(float(ph + 1) * bh)) + y0, 0, H);
          const int xs = std::clamp(int(std::floor(float(pw) * bw)) + x0, 0, W);
          const int xe = std::clamp(int(std::ceil(float(pw + 1) * bw)) + x0, 0, W);
          for (int c = 0; c < C; ++c) {
            long best = -1;
            for (int y = ys; y < ye; ++y)
              for (int x = xs; x < xe; ++x) {
                const long k = ((long(n) * C + c) * H + y) * W + x;
                if (best < 0 || f.data[k] > f.data[best]) best = k;
              }
            at[((std::size_t(n) * R + r) * C + c) * P * P + ph * P + pw] = best;
          }
        }
    }
  return at;
}
inline Tensor roi_pool(const Node& node, const Tensor& f, const Tensor& rois) {
  const std::vector<long> at = roi_pool_argmax(node, f, rois);
  Tensor out({f.dim(0), node.units, f.dim(1) * node.kernel_h * node.kernel_w});
  for (std::size_t e = 0; e < at.size(); ++e) out.data[e] = at[e] < 0 ? 0.0 : f.data[at[e]];
  return out;
}
// Its adjoint for d_out g: each bin's gradient onto its maximum.
inline Tensor roi_pool_backward(const Node& node, const Tensor& f, const Tensor& rois, const Tensor& g) {
  const std::vector<long> at = roi_pool_argmax(node, f, rois);
  Tensor d_in(f.shape);
  for (std::size_t e = 0; e < at.size(); ++e)
    if (at[e] >= 0) d_in.data[at[e]] += g.data[e];
  return d_in;
}

}  // namespace kiln::reference
