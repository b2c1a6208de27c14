// Deterministic contents for the cross-compiled check (tests/cross): the arm64 program
// and the x86 test fill their parameters, buffers and input with the same values, so
// that no file has to pass between them. Plain C++17, no kiln headers: it is compiled
// by the cross compiler too.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln::cross {

// Element k of a tensor, in [offset - scale/2, offset + scale/2).
inline float value(std::size_t k, std::uint32_t salt, float scale, float offset = 0.0f) {
  const std::uint32_t h = std::uint32_t(k) * 2654435761u + salt * 40503u;
  return (float(h >> 8) / float(1u << 24) - 0.5f) * scale + offset;
}

inline void fill_parameters(float* p, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) p[k] = value(k, 1, 0.08f);
}
// Batch norm's running statistics: means around 0, variances around 1 (positive).
inline void fill_buffers(float* b, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) b[k] = value(k, 2, 0.5f, 0.75f);
}
inline void fill_input(float* x, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) x[k] = value(k, 3, 2.0f);
}

}  // namespace kiln::cross
