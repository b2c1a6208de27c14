// Double references of the segmentation ops: the transposed convolution written as
// PyTorch documents it (each input pixel scatters a weighted kernel patch; the lowering
// gathers instead), bilinear upsampling from PyTorch's source-index formula, and the
// per-pixel cross-entropy.
#pragma once
#include "reference/ops.hpp"

namespace kiln::reference {

// in (N, C, H, W), weight (C, O, KH, KW), bias (O) or none -> (N, O, OH, OW) with
// OH = (H - 1) sh - 2 ph + KH, as torch.nn.functional.conv_transpose2d:
//   full[n, o, y sh + ky, x sw + kx] += in[n, c, y, x] weight[c, o, ky, kx]
// then the first ph rows and pw columns (and as many at the end) are cut away.
inline Tensor conv_transpose2d(const Tensor& in, const Tensor& weight, const Tensor* bias, Window w) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3), O = weight.dim(1);
  assert(weight.dim(0) == C && weight.dim(2) == w.kh && weight.dim(3) == w.kw);
  const int OH = (H - 1) * w.sh - 2 * w.ph + w.kh, OW = (W - 1) * w.sw - 2 * w.pw + w.kw;
  Tensor out({N, O, OH, OW});
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < O; ++o)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) out.at(n, o, oy, ox) = bias ? bias->data[o] : 0.0;
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          for (int o = 0; o < O; ++o)
            for (int ky = 0; ky < w.kh; ++ky)
              for (int kx = 0; kx < w.kw; ++kx) {
                const int oy = y * w.sh + ky - w.ph, ox = x * w.sw + kx - w.pw;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;  // cut away
                const double wt = weight.data[((std::size_t(c) * O + o) * w.kh + ky) * w.kw + kx];
                out.at(n, o, oy, ox) += in.at(n, c, y, x) * wt;
              }
  return out;
}

// in (N, C, H, W) -> (N, C, s H, s W), torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False): output index d reads source position max((d + 0.5) / s - 0.5, 0),
// between its floor i0 and i1 = min(i0 + 1, size - 1).
inline Tensor upsample_bilinear(const Tensor& in, int s) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3);
  Tensor out({N, C, H * s, W * s});
  struct Tap { int i0, i1; double l; };
  auto tap = [&](int d, int size) {
    const double src = std::max((d + 0.5) / s - 0.5, 0.0);
    const int i0 = int(std::floor(src));
    return Tap{i0, std::min(i0 + 1, size - 1), src - i0};
  };
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int oy = 0; oy < H * s; ++oy)
        for (int ox = 0; ox < W * s; ++ox) {
          const Tap ty = tap(oy, H), tx = tap(ox, W);
          out.at(n, c, oy, ox) =
              (1 - ty.l) * ((1 - tx.l) * in.at(n, c, ty.i0, tx.i0) + tx.l * in.at(n, c, ty.i0, tx.i1)) +
              ty.l * ((1 - tx.l) * in.at(n, c, ty.i1, tx.i0) + tx.l * in.at(n, c, ty.i1, tx.i1));
        }
  return out;
}

// logits (N, K, H, W), labels [N, H, W] row-major -> the mean over every pixel of
// -log softmax(logits[n, :, y, x])[label[n, y, x]] (nn.CrossEntropyLoss on images).
inline double pixel_cross_entropy(const Tensor& logits, const std::vector<int>& labels) {
  const int N = logits.dim(0), K = logits.dim(1), H = logits.dim(2), W = logits.dim(3);
  double total = 0;
  for (int n = 0; n < N; ++n)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        double m = -std::numeric_limits<double>::infinity();
        for (int k = 0; k < K; ++k) m = std::max(m, logits.at(n, k, y, x));
        double s = 0;
        for (int k = 0; k < K; ++k) s += std::exp(logits.at(n, k, y, x) - m);
        const int label = labels[(std::size_t(n) * H + y) * W + x];
        total += m + std::log(s) - logits.at(n, label, y, x);
      }
  return total / (double(N) * H * W);
}

}  // namespace kiln::reference
