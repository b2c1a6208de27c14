// Math that Halide 14 would otherwise leave to libm one lane at a time.
#pragma once
#include <Halide.h>

namespace kiln::gen {

// tanh(v), vectorized: Halide 14 lowers Halide::tanh to a scalar libm call per lane (16
// calls per AVX-512 vector; the LSTM step's gates spent 80 % of their time there), while
// its exp is its own vector polynomial. Near 0, where 1 - 2 / (e^2v + 1) cancels, the
// Taylor series (error below 1e-9 for |v| < 1/8); elsewhere that form, which saturates
// to +-1 for large |v| (e^2v overflows to inf or falls to 0). Relative error about 1e-7.
inline Halide::Expr tanh_vectorized(Halide::Expr v) {
  Halide::Expr v2 = v * v;
  Halide::Expr series = v * (1.0f + v2 * (-1.0f / 3.0f + v2 * (2.0f / 15.0f + v2 * (-17.0f / 315.0f))));
  Halide::Expr far = 1.0f - 2.0f / (Halide::exp(2.0f * v) + 1.0f);
  return Halide::select(Halide::abs(v) < 0.125f, series, far);
}

}  // namespace kiln::gen
