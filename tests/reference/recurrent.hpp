// Double references of sequence ops, written from PyTorch's documentation (nn.Embedding,
// F.one_hot, nn.RNN / nn.LSTM / nn.GRU, nn.Linear, F.cross_entropy,
// nn.utils.clip_grad_norm_), not from generators/. Everything is batch first: a sequence
// batch is a Tensor {N, T, F}, row-major, element (n, t, f) at (n T + t) F + f. Slow on
// purpose, like ops.hpp: each line should be checkable against the formula by eye.
#pragma once
#include "reference/ops.hpp"

namespace kiln::reference {

// Element (n, t, f) of a sequence batch {N, T, F}.
inline double& at3(Tensor& x, int n, int t, int f) {
  return x.data[(std::size_t(n) * x.shape[1] + t) * x.shape[2] + f];
}
inline double at3(const Tensor& x, int n, int t, int f) {
  return x.data[(std::size_t(n) * x.shape[1] + t) * x.shape[2] + f];
}

// The id at (n, t) of tokens {N, T, 1}: an integer stored as a double, in [0, V).
inline int token_at(const Tensor& tokens, int n, int t, int V) {
  const double v = at3(tokens, n, t, 0);
  const int id = int(v);
  if (double(id) != v || id < 0 || id >= V)
    throw std::invalid_argument("reference: token id not an integer in [0, V)");
  return id;
}

// tokens {N, T, 1}, weight [V, D] (nn.Embedding.weight) -> {N, T, D}:
//   out[n, t, d] = weight[tokens[n, t], d]
inline Tensor embedding(const Tensor& tokens, const Tensor& weight) {
  const int N = tokens.dim(0), T = tokens.dim(1), V = weight.dim(0), D = weight.dim(1);
  assert(tokens.dim(2) == 1);
  Tensor out({N, T, D});
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < T; ++t) {
      const int id = token_at(tokens, n, t, V);
      for (int d = 0; d < D; ++d) at3(out, n, t, d) = weight.at(id, d);
    }
  return out;
}

// tokens {N, T, 1} -> {N, T, V}: 1 at the token's id, 0 elsewhere (F.one_hot).
inline Tensor one_hot(const Tensor& tokens, int vocabulary) {
  const int N = tokens.dim(0), T = tokens.dim(1), V = vocabulary;
  assert(tokens.dim(2) == 1);
  Tensor out({N, T, V});
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < T; ++t) at3(out, n, t, token_at(tokens, n, t, V)) = 1.0;
  return out;
}

// The recurrent cells, with their number of gates G: the rows of weight_ih_l0 [G H, F],
// weight_hh_l0 [G H, H] and the biases [G H] are the gates' blocks of H, in PyTorch's order.
enum class Cell { rnn, lstm, gru };
inline int gates_of(Cell cell) { return cell == Cell::rnn ? 1 : cell == Cell::lstm ? 4 : 3; }

inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// One layer of nn.RNN (nonlinearity='tanh'), nn.LSTM or nn.GRU with batch_first=True,
// from zero h (and c), or from `initial` {N, H} (lstm {N, 2 H}: h, then c). in {N, T, F}, w_ih [G H, F], w_hh [G H, H], b_ih and b_hh [G H].
// With x = in[n, t], h = the previous step's h (0 at t = 0), and for gate block k
//   ih_k = W_ih[k H .. k H + H) x + b_ih[k H ..),  hh_k = W_hh[k H ..) h + b_hh[k H ..):
//   rnn:  h' = tanh(ih_0 + hh_0)
//   lstm: i = sigmoid(ih_0 + hh_0), f = sigmoid(ih_1 + hh_1), g = tanh(ih_2 + hh_2),
//         o = sigmoid(ih_3 + hh_3);  c' = f c + i g;  h' = o tanh(c')
//   gru:  r = sigmoid(ih_0 + hh_0), z = sigmoid(ih_1 + hh_1), n = tanh(ih_2 + r hh_2);
//         h' = (1 - z) n + z h
// Returns every step's h {N, T, H}, or with last_step only the last step's {N, H}.
inline Tensor recurrent(Cell cell, const Tensor& in, const Tensor& w_ih, const Tensor& w_hh,
                        const Tensor& b_ih, const Tensor& b_hh, bool last_step, const Tensor* initial = nullptr) {
  const int N = in.dim(0), T = in.dim(1), F = in.dim(2), G = gates_of(cell);
  const int H = w_hh.dim(1);
  assert(w_ih.dim(0) == G * H && w_ih.dim(1) == F && w_hh.dim(0) == G * H);
  assert(int(b_ih.size()) == G * H && int(b_hh.size()) == G * H);
  Tensor all({N, T, H}), last({N, H});
  for (int n = 0; n < N; ++n) {
    std::vector<double> h(H, 0.0), c(H, 0.0);
    for (int j = 0; initial && j < H; ++j) {
      h[j] = initial->at(n, j);
      if (cell == Cell::lstm) c[j] = initial->at(n, H + j);
    }
    for (int t = 0; t < T; ++t) {
      // ih[k H + j] and hh[k H + j]: gate k's input and hidden parts at unit j.
      std::vector<double> ih(G * H), hh(G * H);
      for (int r = 0; r < G * H; ++r) {
        double s = b_ih.data[r];
        for (int f = 0; f < F; ++f) s += w_ih.at(r, f) * at3(in, n, t, f);
        ih[r] = s;
        double u = b_hh.data[r];
        for (int k = 0; k < H; ++k) u += w_hh.at(r, k) * h[k];
        hh[r] = u;
      }
      std::vector<double> next(H);
      for (int j = 0; j < H; ++j) {
        auto gate = [&](int k) { return ih[k * H + j] + hh[k * H + j]; };
        switch (cell) {
          case Cell::rnn: next[j] = std::tanh(gate(0)); break;
          case Cell::lstm: {
            const double i = sigmoid(gate(0)), f = sigmoid(gate(1));
            const double g = std::tanh(gate(2)), o = sigmoid(gate(3));
            c[j] = f * c[j] + i * g;
            next[j] = o * std::tanh(c[j]);
            break;
          }
          case Cell::gru: {
            const double r = sigmoid(gate(0)), z = sigmoid(gate(1));
            const double cand = std::tanh(ih[2 * H + j] + r * hh[2 * H + j]);
            next[j] = (1 - z) * cand + z * h[j];
            break;
          }
        }
      }
      h = next;
      for (int j = 0; j < H; ++j) at3(all, n, t, j) = h[j];
    }
    for (int j = 0; j < H; ++j) last.at(n, j) = h[j];
  }
  return last_step ? last : all;
}

// nn.Linear at every step: in {N, T, F}, weight [O, F], bias [O] or none -> {N, T, O}:
//   out[n, t, o] = bias[o] + sum_f weight[o, f] in[n, t, f]
inline Tensor sequence_dense(const Tensor& in, const Tensor& weight, const Tensor* bias) {
  const int N = in.dim(0), T = in.dim(1), F = in.dim(2), O = weight.dim(0);
  assert(weight.dim(1) == F);
  Tensor out({N, T, O});
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < T; ++t)
      for (int o = 0; o < O; ++o) {
        double s = bias ? bias->data[o] : 0.0;
        for (int f = 0; f < F; ++f) s += weight.at(o, f) * at3(in, n, t, f);
        at3(out, n, t, o) = s;
      }
  return out;
}

// logits {N, T, K}, labels[n T + t] in [0, K) -> the mean over all N T positions of
// -log softmax(logits[n, t])[label] (F.cross_entropy(logits.reshape(-1, K),
// labels.reshape(-1))), with a max-subtracted log-sum-exp.
inline double sequence_cross_entropy(const Tensor& logits, const std::vector<int>& labels) {
  const int N = logits.dim(0), T = logits.dim(1), K = logits.dim(2);
  assert(labels.size() == std::size_t(N) * T);
  double total = 0;
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < T; ++t) {
      double m = -std::numeric_limits<double>::infinity();
      for (int k = 0; k < K; ++k) m = std::max(m, at3(logits, n, t, k));
      double s = 0;
      for (int k = 0; k < K; ++k) s += std::exp(at3(logits, n, t, k) - m);
      total += m + std::log(s) - at3(logits, n, t, labels[std::size_t(n) * T + t]);
    }
  return total / (double(N) * T);
}

// nn.utils.clip_grad_norm_(params, max_norm)'s factor on every gradient:
// min(1, max_norm / (total_norm + 1e-6)), total_norm the L2 norm of all gradients together.
inline double clipped_scale(const std::vector<double>& grad, double max_norm) {
  double squares = 0;
  for (double g : grad) squares += g * g;
  const double total_norm = std::sqrt(squares);
  return std::min(1.0, max_norm / (total_norm + 1e-6));
}

}  // namespace kiln::reference
