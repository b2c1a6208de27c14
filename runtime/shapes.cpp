#include "runtime/shapes.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace kiln::shapes {
namespace {

// Even-odd rule over a closed polygon of n vertices (xs[i], ys[i]).
bool inside_polygon(const float* xs, const float* ys, int n, float u, float v) {
  bool in = false;
  for (int i = 0, j = n - 1; i < n; j = i++)
    if ((ys[i] > v) != (ys[j] > v) &&
        u < (xs[j] - xs[i]) * (v - ys[i]) / (ys[j] - ys[i]) + xs[i])
      in = !in;
  return in;
}

// The five-pointed star, point up: outer radius 1, inner radius 0.42.
bool inside_star(float u, float v) {
  float xs[10], ys[10];
  for (int k = 0; k < 10; ++k) {
    const float angle = float(-std::numbers::pi / 2 + k * std::numbers::pi / 5);
    const float r = k % 2 == 0 ? 1.0f : 0.42f;
    xs[k] = r * std::cos(angle);
    ys[k] = r * std::sin(angle);
  }
  return inside_polygon(xs, ys, 10, u, v);
}

// In unit coordinates: the shape spans [-1, 1] at most in u (right) and v (down).
bool covers_unit(Kind kind, float u, float v) {
  const float au = std::abs(u), av = std::abs(v), r2 = u * u + v * v;
  switch (kind) {
    case Kind::circle: return r2 <= 1.0f;
    case Kind::square: return au <= 0.85f && av <= 0.85f;
    case Kind::triangle: {
      const float xs[3] = {0.0f, 0.95f, -0.95f}, ys[3] = {-1.0f, 0.8f, 0.8f};
      return inside_polygon(xs, ys, 3, u, v);
    }
    case Kind::diamond: return au + av <= 1.0f;
    case Kind::plus: return (au <= 0.3f && av <= 1.0f) || (av <= 0.3f && au <= 1.0f);
    case Kind::cross: {  // the plus turned by 45 degrees, arms reaching the corners' diagonal
      const float a = std::abs(u + v) * float(std::numbers::sqrt2 / 2);
      const float b = std::abs(u - v) * float(std::numbers::sqrt2 / 2);
      return au <= 1.0f && av <= 1.0f && (a <= 0.25f || b <= 0.25f);
    }
    case Kind::ring: return r2 <= 1.0f && r2 >= 0.55f * 0.55f;
    case Kind::frame: return std::max(au, av) <= 0.9f && std::max(au, av) >= 0.5f;
    case Kind::star: return inside_star(u, v);
    case Kind::half_disc: return v <= 0.5f && u * u + (v - 0.5f) * (v - 0.5f) <= 1.0f;
  }
  return false;
}

}  // namespace

bool covers(const Object& object, float x, float y) {
  return covers_unit(object.kind, (x - object.cx) / object.half, (y - object.cy) / object.half);
}

std::array<float, 3> paint_background(const Canvas& canvas, SplitMix64& rng) {
  std::array<float, 3> base;
  for (float& b : base) b = rng.uniform(0.1f, 0.9f);
  const float angle = rng.uniform(0.0f, float(std::numbers::pi));
  const float period = rng.uniform(3.0f, 12.0f), phase = rng.uniform(0.0f, 6.2832f);
  const float strength = rng.uniform(0.0f, 0.12f);
  const float dx = std::cos(angle) * 2 * float(std::numbers::pi) / period;
  const float dy = std::sin(angle) * 2 * float(std::numbers::pi) / period;
  for (int y = 0; y < canvas.height; ++y)
    for (int x = 0; x < canvas.width; ++x) {
      const float stripe = strength * std::sin(dx * x + dy * y + phase);
      for (int c = 0; c < 3; ++c)
        canvas.at(c, y, x) = std::clamp(base[c] + stripe + rng.uniform(-0.05f, 0.05f), 0.0f, 1.0f);
    }
  return base;
}

void choose_colour(Object& object, const std::array<float, 3>& base, SplitMix64& rng) {
  int candidates[colour_count], n = 0;
  for (int k = 0; k < colour_count; ++k) {
    float distance = 0;
    for (int c = 0; c < 3; ++c) distance += std::abs(palette[k][c] - base[c]);
    if (distance >= 0.8f) candidates[n++] = k;
  }
  // Bases are in [0.1, 0.9]^3, so some entry is always far enough; the fallback is
  // only a guard.
  object.colour = n > 0 ? candidates[rng.below(uint32_t(n))] : int(rng.below(colour_count));
  for (int c = 0; c < 3; ++c)
    object.rgb[c] = std::clamp(palette[object.colour][c] + rng.uniform(-0.08f, 0.08f), 0.0f, 1.0f);
}

int paint(const Canvas& canvas, const Object& object) {
  const int x0 = std::max(0, int(std::floor(object.cx - object.half)));
  const int x1 = std::min(canvas.width - 1, int(std::ceil(object.cx + object.half)));
  const int y0 = std::max(0, int(std::floor(object.cy - object.half)));
  const int y1 = std::min(canvas.height - 1, int(std::ceil(object.cy + object.half)));
  int painted = 0;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x)
      if (covers(object, x + 0.5f, y + 0.5f)) {
        for (int c = 0; c < 3; ++c) canvas.at(c, y, x) = object.rgb[c];
        ++painted;
      }
  return painted;
}

namespace {
// `count` images of 3 x side x side: each a fresh texture, then paint_one(canvas, base,
// rng, i), which paints image i over it and returns its label.
template <class PaintOne>
ImageSet painted_set(int count, int side, uint64_t seed, PaintOne paint_one) {
  ImageSet set{count, 3, side, side, {}, {}};
  set.pixels.resize(size_t(count) * set.image_size());
  set.labels.resize(count);
  SplitMix64 rng(seed);
  for (int i = 0; i < count; ++i) {
    const Canvas canvas{side, side, set.pixels.data() + i * set.image_size()};
    const auto base = paint_background(canvas, rng);
    set.labels[i] = paint_one(canvas, base, rng, i);
  }
  return set;
}
}  // namespace

ImageSet make_shapes10(int count, uint64_t seed) {
  constexpr int side = 32;
  return painted_set(count, side, seed, [](const Canvas& canvas, const auto& base, SplitMix64& rng, int i) {
    Object object;
    object.kind = Kind(i % kind_count);
    object.half = rng.uniform(6.0f, 13.0f);
    object.cx = rng.uniform(object.half, side - object.half);
    object.cy = rng.uniform(object.half, side - object.half);
    choose_colour(object, base, rng);
    paint(canvas, object);
    return i % kind_count;
  });
}

ImageSet make_shape_windows(int count, uint64_t seed) {
  constexpr int side = 32, classes = 4;
  return painted_set(count, side, seed, [](const Canvas& canvas, const auto& base, SplitMix64& rng, int i) {
    const int label = i % classes;
    Object object;
    object.half = rng.uniform(6.0f, 13.0f);
    float distance = rng.uniform(0.0f, 3.0f);  // from the window's centre
    if (label == 0) {
      if (rng.below(2) == 0) return label;  // texture alone
      distance = rng.uniform(12.0f, 20.0f);
    }
    object.kind = Kind(label == 0 ? rng.below(3) : uint32_t(label - 1));
    const float angle = rng.uniform(0.0f, 6.2832f);
    object.cx = side / 2.0f + distance * std::cos(angle);
    object.cy = side / 2.0f + distance * std::sin(angle);
    choose_colour(object, base, rng);
    paint(canvas, object);
    return label;
  });
}

}  // namespace kiln::shapes
