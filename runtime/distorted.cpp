#include "runtime/distorted.hpp"

#include "runtime/error.hpp"

#include <cmath>

namespace kiln::distorted {

Distortion draw(uint64_t seed, int index) {
  SplitMix64 rng(seed ^ (uint64_t(index) * 0x9e3779b97f4a7c15ull));
  Distortion d;
  d.degrees = rng.uniform(-max_degrees, max_degrees);
  d.scale = rng.uniform(min_scale, max_scale);
  d.dx = rng.uniform(-max_shift, max_shift);
  d.dy = rng.uniform(-max_shift, max_shift);
  return d;
}

void distort(const float* digit, int height, int width, const Distortion& d, float* out) {
  const float angle = d.degrees * float(M_PI / 180), c = std::cos(angle), s = std::sin(angle);
  const float cx = 0.5f * canvas + d.dx, cy = 0.5f * canvas + d.dy;
  auto at = [&](int x, int y) { return x >= 0 && x < width && y >= 0 && y < height ? digit[y * width + x] : 0.0f; };
  for (int y = 0; y < canvas; ++y)
    for (int x = 0; x < canvas; ++x) {
      // The canvas pixel's centre, relative to the digit's centre there, rotated back and
      // unscaled: a point of the digit (its pixel centres at i + 0.5).
      const float rx = x + 0.5f - cx, ry = y + 0.5f - cy;
      const float u = (c * rx + s * ry) / d.scale + 0.5f * width - 0.5f;
      const float v = (-s * rx + c * ry) / d.scale + 0.5f * height - 0.5f;
      const float u0 = std::floor(u), v0 = std::floor(v), fu = u - u0, fv = v - v0;
      const int iu = int(u0), iv = int(v0);
      out[y * canvas + x] = (1 - fv) * ((1 - fu) * at(iu, iv) + fu * at(iu + 1, iv)) +
                            fv * ((1 - fu) * at(iu, iv + 1) + fu * at(iu + 1, iv + 1));
    }
}

ImageSet distort_all(const ImageSet& digits, uint64_t seed) {
  if (digits.channels != 1) fail("distorted digits: expected 1-channel images, got {}", digits.channels);
  ImageSet out;
  out.count = digits.count;
  out.channels = 1;
  out.height = out.width = canvas;
  out.pixels.resize(std::size_t(out.count) * canvas * canvas);
  out.labels = digits.labels;
  for (int i = 0; i < digits.count; ++i)
    distort(digits.image(i), digits.height, digits.width, draw(seed, i), out.pixels.data() + i * out.image_size());
  return out;
}

}  // namespace kiln::distorted
