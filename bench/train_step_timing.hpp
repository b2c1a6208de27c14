// What the benchmarks of a whole generated entry share: a batch of deterministic
// pseudo-random inputs, and the timing of train_step on one fixed batch.
#pragma once
#include "bench/measure.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <vector>

namespace kiln::bench {

// `count` values in [0, 1), the same every run: a multiplicative hash of the index.
inline std::vector<float> pattern_values(std::size_t count) {
  std::vector<float> v(count);
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = float((k * 2654435761u) % 1000) / 1000.0f;
  return v;
}

// Runs net's train_step `rounds` times over `warmup` untimed and `steps` timed calls on
// one batch (the parameters start from params, Adam's moments from zero), printing one
// line per round: "kiln_ms_per_step <median>", which the bench scripts read.
inline void print_train_step_ms(const Network& net, Parameters& params, const float* input,
                                BatchLabels labels, int batch, const HyperParameters& h,
                                int warmup, int steps, int rounds) {
  std::vector<float> m(params.size()), v(params.size());
  for (int r = 0; r < rounds; ++r) {
    const double ms = median_ms(warmup, steps, [&](int) {
      net.train_step(params.data(), m.data(), v.data(), params.buffers(), input, labels, batch, 0, h);
    });
    fmt::print("kiln_ms_per_step {:.4f}\n", ms);
  }
}

}  // namespace kiln::bench
