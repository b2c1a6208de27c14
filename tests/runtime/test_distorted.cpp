// The distorted digits: the identity map moves a digit to the canvas's centre unchanged,
// a quarter turn turns it, a scale scales it, and each digit's map is its own.
#include <catch2/catch.hpp>

#include <cmath>

#include "runtime/distorted.hpp"

using namespace kiln::distorted;

namespace {
constexpr int side = 28;
// A digit with one lit pixel at (x, y).
std::vector<float> dot(int x, int y) {
  std::vector<float> d(side * side, 0.0f);
  d[y * side + x] = 1.0f;
  return d;
}
}  // namespace

TEST_CASE("distorted digits: the identity copies the digit to the canvas's centre", "[distorted]") {
  std::vector<float> digit(side * side);
  for (int k = 0; k < side * side; ++k) digit[k] = float((k * 37) % 101) / 100.0f;
  std::vector<float> out(canvas * canvas, NAN);
  distort(digit.data(), side, side, {}, out.data());
  const int border = (canvas - side) / 2;  // 7
  for (int y = 0; y < canvas; ++y)
    for (int x = 0; x < canvas; ++x) {
      const bool inside = x >= border && x < border + side && y >= border && y < border + side;
      INFO(x << ", " << y);
      CHECK(out[y * canvas + x] == Approx(inside ? digit[(y - border) * side + x - border] : 0.0f).margin(1e-6));
    }
}

TEST_CASE("distorted digits: rotation, scale and shift move a pixel where the map says", "[distorted]") {
  // Pixel (20, 14) of the digit: its centre (20.5, 14.5) is (6.5, 0.5) from the digit's
  // centre (14, 14); the identity puts it at canvas pixel (27, 21).
  const std::vector<float> d = dot(20, 14);
  std::vector<float> out(canvas * canvas);
  // A quarter turn (clockwise on screen, y down): (6.5, 0.5) becomes (-0.5, 6.5) from the
  // canvas's centre (21, 21): pixel (20, 27).
  distort(d.data(), side, side, {.degrees = 90}, out.data());
  CHECK(out[27 * canvas + 20] == Approx(1.0f).margin(1e-5));
  // Scale 2: (13, 1) from the centre, between pixels 33 and 34, 21 and 22: each of the four
  // at 0.75 x 0.75, the whole footprint (a tent of twice the width) summing to 4.
  distort(d.data(), side, side, {.scale = 2}, out.data());
  float total = 0;
  for (float v : out) total += v;
  CHECK(total == Approx(4.0f).margin(1e-4));  // the area quadruples
  CHECK(out[21 * canvas + 33] == Approx(0.5625f).margin(1e-5));
  CHECK(out[22 * canvas + 34] == Approx(0.5625f).margin(1e-5));
  // A shift of (3, -2): pixel (30, 19).
  distort(d.data(), side, side, {.dx = 3, .dy = -2}, out.data());
  CHECK(out[19 * canvas + 30] == Approx(1.0f).margin(1e-5));
}

TEST_CASE("distorted digits: each index draws its own map within the ranges", "[distorted]") {
  const Distortion a = draw(0, 5), b = draw(0, 5), c = draw(0, 6);
  CHECK((a.degrees == b.degrees && a.scale == b.scale && a.dx == b.dx && a.dy == b.dy));
  CHECK(a.degrees != c.degrees);
  for (int i = 0; i < 1000; ++i) {
    const Distortion d = draw(0, i);
    CHECK(std::abs(d.degrees) <= max_degrees);
    CHECK((d.scale >= min_scale && d.scale <= max_scale));
    CHECK((std::abs(d.dx) <= max_shift && std::abs(d.dy) <= max_shift));
  }
}
