// "mnist_distorted": MNIST digits rotated, scaled and moved at random on a larger canvas
// (Jaderberg et al. 2015's "RTS" digits), for a spatial transformer to learn to undo.
// Digit i of the set is distorted by a map drawn from (seed, i) alone.
#pragma once
#include "runtime/mnist.hpp"

namespace kiln::distorted {

// The canvas side, and the draws: rotation in [-max_degrees, max_degrees], scale in
// [min_scale, max_scale], the digit's centre moved by up to max_shift pixels each way
// from the canvas's.
inline constexpr int canvas = 42;
inline constexpr float max_degrees = 45, min_scale = 0.7f, max_scale = 1.2f, max_shift = 7;

// An affine map of digit pixels onto the canvas.
struct Distortion {
  float degrees = 0, scale = 1, dx = 0, dy = 0;
};
Distortion draw(uint64_t seed, int index);

// The digit (1, h, w) drawn onto the canvas (1, canvas, canvas): each canvas pixel reads
// the digit bilinearly where the inverse map takes its centre, 0 outside the digit.
void distort(const float* digit, int height, int width, const Distortion& d, float* out);

// Every image of `digits` (1 x 28 x 28) distorted onto a canvas, labels kept.
ImageSet distort_all(const ImageSet& digits, uint64_t seed);

}  // namespace kiln::distorted
