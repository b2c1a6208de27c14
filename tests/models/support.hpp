// What the tests of built models share.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace kiln::modeltest {

// max_k |a_k - b_k| / max_k |b_k|: two builds' outputs, b the reference one; infinite
// when either holds a non-finite value (an element left unwritten, filled with NaN).
inline double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!std::isfinite(a[k]) || !std::isfinite(b[k])) return INFINITY;
    diff = std::max(diff, double(std::abs(a[k] - b[k])));
    scale = std::max(scale, double(std::abs(b[k])));
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace kiln::modeltest
