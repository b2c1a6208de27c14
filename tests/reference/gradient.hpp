// The generic gradient checker (after dlib's test_layer): the gradient of any double
// function of a flat vector by central differences, for comparison with an adjoint.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace kiln::reference {

// g[k] = (f(x + h e_k) - f(x - h e_k)) / 2h with h = step max(1, |x_k|). In double, with
// step 1e-6 the truncation error is O(h^2 f''') ~ 1e-12 and the rounding error
// O(eps |f| / h) ~ 1e-10 |f|: far below the float32 adjoints it is compared with.
template <class F>
std::vector<double> numerical_gradient(F&& f, std::vector<double> x, double step = 1e-6) {
  std::vector<double> g(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double x0 = x[k], h = step * std::max(1.0, std::abs(x0));
    x[k] = x0 + h;
    const double up = f(x);
    x[k] = x0 - h;
    const double down = f(x);
    x[k] = x0;
    g[k] = (up - down) / (2 * h);
  }
  return g;
}

}  // namespace kiln::reference
