// Double references of batch norm, dropout and input normalization, written from
// PyTorch's documentation (nn.BatchNorm2d/1d, nn.Dropout) and from kiln's documented
// dropout draw (generators/ops/dropout.cpp's contract), not from the lowering.
#pragma once
#include "reference/ops.hpp"

#include <cstdint>
#include <string_view>

namespace kiln::reference {

// Per-channel statistics over every dim but the channel (dim 1) of (N, C, H, W) or
// (N, C): the mean, the biased variance (divided by M) and the unbiased one (M - 1).
struct ChannelStatistics {
  std::vector<double> mean, biased_var, unbiased_var;
};
inline ChannelStatistics channel_statistics(const Tensor& in) {
  const int N = in.dim(0), C = in.dim(1);
  const std::size_t per_channel = in.size() / (std::size_t(N) * C);
  const double M = double(N) * double(per_channel);
  ChannelStatistics s{std::vector<double>(C), std::vector<double>(C), std::vector<double>(C)};
  auto channel_of = [&](std::size_t k) { return int(k / per_channel % C); };
  for (std::size_t k = 0; k < in.size(); ++k) s.mean[channel_of(k)] += in.data[k] / M;
  std::vector<double> squares(C);
  for (std::size_t k = 0; k < in.size(); ++k) squares[channel_of(k)] += std::pow(in.data[k] - s.mean[channel_of(k)], 2);
  for (int c = 0; c < C; ++c) {
    s.biased_var[c] = squares[c] / M;
    s.unbiased_var[c] = squares[c] / std::max(M - 1, 1.0);
  }
  return s;
}

// weight[c] (x - mean[c]) / sqrt(var[c] + eps) + bias[c] per channel (dim 1).
inline Tensor batch_norm(const Tensor& in, const Tensor& weight, const Tensor& bias,
                         const std::vector<double>& mean, const std::vector<double>& var,
                         double eps) {
  const int N = in.dim(0), C = in.dim(1);
  const std::size_t per_channel = in.size() / (std::size_t(N) * C);
  Tensor out(in.shape);
  for (std::size_t k = 0; k < in.size(); ++k) {
    const int c = int(k / per_channel % C);
    out.data[k] = weight.data[c] * (in.data[k] - mean[c]) / std::sqrt(var[c] + eps) + bias.data[c];
  }
  return out;
}

// The running statistics after one training batch: (1 - m) running + m batch, the
// variance unbiased.
inline std::vector<double> running_update(const std::vector<double>& running,
                                          const std::vector<double>& batch, double momentum) {
  std::vector<double> out(running.size());
  for (std::size_t c = 0; c < running.size(); ++c) out[c] = (1 - momentum) * running[c] + momentum * batch[c];
  return out;
}

// Dropout's keep decision for element e of the batch (row-major), as kiln documents it.
inline uint32_t lowbias32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  h ^= h >> 16;
  return h;
}
inline bool dropout_keeps(uint32_t seed, std::string_view layer, uint32_t e, double p) {
  uint32_t name_hash = 2166136261u;
  for (char ch : layer) name_hash = (name_hash ^ uint8_t(ch)) * 16777619u;
  const uint32_t key = lowbias32(seed ^ lowbias32(name_hash));
  const double u = double(lowbias32(lowbias32(e) ^ key) >> 8) / 16777216.0;
  return u >= p;
}
inline Tensor dropout(const Tensor& in, double p, uint32_t seed, std::string_view layer) {
  Tensor out(in.shape);
  for (std::size_t k = 0; k < in.size(); ++k)
    out.data[k] = dropout_keeps(seed, layer, uint32_t(k), p) ? in.data[k] / (1 - p) : 0.0;
  return out;
}

// (x - mean[c]) / std[c] per channel of (N, C, H, W); one value applies to every channel.
inline Tensor normalize(const Tensor& in, const std::vector<double>& mean, const std::vector<double>& stdev) {
  const int N = in.dim(0), C = in.dim(1);
  const std::size_t per_channel = in.size() / (std::size_t(N) * C);
  Tensor out(in.shape);
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t c = mean.size() == 1 ? 0 : k / per_channel % C;
    out.data[k] = (in.data[k] - mean[c]) / stdev[c];
  }
  return out;
}

}  // namespace kiln::reference
