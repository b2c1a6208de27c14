// Double references of the attention ops, written from their definitions (PyTorch's
// F.affine_grid + F.grid_sample with align_corners=False and zero padding; nn.LSTMCell
// with Xu et al.'s soft attention, bilinear scores), not from generators/. Slow on
// purpose, like ops.hpp.
#pragma once
#include "reference/recurrent.hpp"

#include <cmath>

namespace kiln::reference {

// in (N, C, H, W), offsets (N, 6) -> (N, C, out_h, out_w): the input sampled bilinearly
// at theta (u, v, 1), theta = [[1, 0, 0], [0, 1, 0]] + offsets (row-major 2 x 3), for
// output pixel (i, j) at u = (2 j + 1) / out_w - 1, v = (2 i + 1) / out_h - 1 (affine_grid),
// pixel coordinates ((x + 1) W - 1) / 2 (grid_sample), a corner off the map reading 0.
inline Tensor affine_sample(const Tensor& in, const Tensor& offsets, int out_h, int out_w) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3);
  Tensor out({N, C, out_h, out_w});
  for (int n = 0; n < N; ++n) {
    double theta[6];
    for (int k = 0; k < 6; ++k) theta[k] = offsets.data[std::size_t(n) * 6 + k] + (k == 0 || k == 4 ? 1.0 : 0.0);
    for (int i = 0; i < out_h; ++i)
      for (int j = 0; j < out_w; ++j) {
        const double u = (2.0 * j + 1) / out_w - 1, v = (2.0 * i + 1) / out_h - 1;
        const double x = ((theta[0] * u + theta[1] * v + theta[2] + 1) * W - 1) / 2;
        const double y = ((theta[3] * u + theta[4] * v + theta[5] + 1) * H - 1) / 2;
        const double x0 = std::floor(x), y0 = std::floor(y), fx = x - x0, fy = y - y0;
        for (int c = 0; c < C; ++c) {
          double sum = 0;
          for (int b = 0; b < 2; ++b)
            for (int a = 0; a < 2; ++a) {
              const double px = x0 + a, py = y0 + b;
              if (px < 0 || px >= W || py < 0 || py >= H) continue;
              sum += (a ? fx : 1 - fx) * (b ? fy : 1 - fy) * in.at(n, c, int(py), int(px));
            }
          out.at(n, c, i, j) = sum;
        }
      }
  }
  return out;
}

// in (N, C, H, W) -> (N, C + 2, H, W): the channels, then each pixel's normalized x and
// y, (2 j + 1) / W - 1 and (2 i + 1) / H - 1 (CoordConv, with affine_grid's convention).
inline Tensor coordinates(const Tensor& in) {
  const int N = in.dim(0), C = in.dim(1), H = in.dim(2), W = in.dim(3);
  Tensor out({N, C + 2, H, W});
  for (int n = 0; n < N; ++n)
    for (int i = 0; i < H; ++i)
      for (int j = 0; j < W; ++j) {
        for (int c = 0; c < C; ++c) out.at(n, c, i, j) = in.at(n, c, i, j);
        out.at(n, C, i, j) = (2.0 * j + 1) / W - 1;
        out.at(n, C + 1, i, j) = (2.0 * i + 1) / H - 1;
      }
  return out;
}

// attention_lstm: x {N, T, E}, grid (N, C, h, w) of L = h w locations a_l (l = x + w y),
// w_ih [4H, E + C], w_hh [4H, H], b_ih, b_hh [4H], w_k [H, C] -> {N, T, H + C}:
// at every step t, from h = c = 0,
//   e_l = (w_k a_l) . h;  alpha = softmax(e);  z = sum_l alpha_l a_l;
//   i, f, g, o = w_ih [x_t; z] + b_ih + w_hh h + b_hh;  c = sigma(f) c + sigma(i) tanh(g);
//   h = sigma(o) tanh(c);  out[n, t] = [h; z]
// With `alpha_out`, also every step's attention {N, T, L}.
inline Tensor attention_lstm(const Tensor& x, const Tensor& grid, const Tensor& w_ih, const Tensor& w_hh,
                             const Tensor& b_ih, const Tensor& b_hh, const Tensor& w_k,
                             Tensor* alpha_out = nullptr) {
  const int N = x.dim(0), T = x.dim(1), E = x.dim(2), C = grid.dim(1), L = grid.dim(2) * grid.dim(3);
  const int H = w_hh.dim(1), W = grid.dim(3);
  Tensor out({N, T, H + C});
  if (alpha_out) *alpha_out = Tensor({N, T, L});
  for (int n = 0; n < N; ++n) {
    auto a = [&](int c, int l) { return grid.at(n, c, l / W, l % W); };
    std::vector<double> keys(std::size_t(L) * H);
    for (int l = 0; l < L; ++l)
      for (int k = 0; k < H; ++k) {
        double v = 0;
        for (int c = 0; c < C; ++c) v += w_k.at(k, c) * a(c, l);
        keys[std::size_t(l) * H + k] = v;
      }
    std::vector<double> h(H, 0.0), cell(H, 0.0), input(E + C), gates(4 * H);
    for (int t = 0; t < T; ++t) {
      std::vector<double> e(L), alpha(L);
      double top = -INFINITY, total = 0;
      for (int l = 0; l < L; ++l) {
        e[l] = 0;
        for (int k = 0; k < H; ++k) e[l] += keys[std::size_t(l) * H + k] * h[k];
        top = std::max(top, e[l]);
      }
      for (int l = 0; l < L; ++l) total += alpha[l] = std::exp(e[l] - top);
      for (int l = 0; l < L; ++l) alpha[l] /= total;
      for (int f = 0; f < E; ++f) input[f] = at3(x, n, t, f);
      for (int c = 0; c < C; ++c) {
        double z = 0;
        for (int l = 0; l < L; ++l) z += alpha[l] * a(c, l);
        input[E + c] = z;
      }
      for (int g = 0; g < 4 * H; ++g) {
        double v = b_ih.data[g] + b_hh.data[g];
        for (int f = 0; f < E + C; ++f) v += w_ih.at(g, f) * input[f];
        for (int k = 0; k < H; ++k) v += w_hh.at(g, k) * h[k];
        gates[g] = v;
      }
      for (int k = 0; k < H; ++k) {
        const double i = sigmoid(gates[k]), f = sigmoid(gates[H + k]), g = std::tanh(gates[2 * H + k]),
                     o = sigmoid(gates[3 * H + k]);
        cell[k] = f * cell[k] + i * g;
        h[k] = o * std::tanh(cell[k]);
      }
      for (int k = 0; k < H; ++k) at3(out, n, t, k) = h[k];
      for (int c = 0; c < C; ++c) at3(out, n, t, H + c) = input[E + c];
      if (alpha_out)
        for (int l = 0; l < L; ++l) at3(*alpha_out, n, t, l) = alpha[l];
    }
  }
  return out;
}

}  // namespace kiln::reference
