// The procedural shapes: each kind's rasterized area against its area computed by hand,
// paint against covers, colour contrast, and shapes10's determinism and balance.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <vector>

#include "runtime/datasets.hpp"
#include "runtime/shapes.hpp"

using namespace kiln::shapes;

namespace {

// Pixels whose centres the object covers, counted over a large canvas.
int covered_pixels(const Object& object, int side) {
  int n = 0;
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) n += covers(object, x + 0.5f, y + 0.5f);
  return n;
}

}  // namespace

TEST_CASE("each kind covers the area computed by hand", "[shapes]") {
  const double pi = std::numbers::pi;
  // Areas in units of half^2 (the shapes are defined on [-1, 1]^2 in shapes.cpp).
  const double areas[kind_count] = {
      pi,                               // circle, radius 1
      1.7 * 1.7,                        // square, side 1.7
      0.5 * 1.9 * 1.8,                  // triangle, base 1.9, height 1.8
      2.0,                              // diamond |u| + |v| <= 1
      2 * (0.6 * 2.0) - 0.6 * 0.6,      // plus: two 0.6 x 2 bars, their overlap once
      // cross: two diagonal bands of half-width 0.25 in [-1, 1]^2, each 4 - (2 - t)^2
      // with t = 0.25 sqrt 2, less their 0.5 x 0.5 overlap
      2 * (4 - std::pow(2 - 0.25 * std::numbers::sqrt2, 2)) - 0.25,
      pi * (1 - 0.55 * 0.55),           // ring
      1.8 * 1.8 - 1.0 * 1.0,            // frame
      10 * 0.5 * 1.0 * 0.42 * std::sin(pi / 5),  // star: 10 triangles (R, r, 36 degrees)
      pi / 2,                           // half disc of radius 1
  };
  const float half = 40;
  for (int k = 0; k < kind_count; ++k) {
    INFO(kind_names[k]);
    // Off the pixel lattice, so that no run of pixel centres lies on an edge.
    const Object object{Kind(k), 0, 50.37f, 49.71f, half, {}};
    const double expected = areas[k] * half * half;
    CHECK(std::abs(covered_pixels(object, 100) - expected) < 0.02 * expected);
  }
}

TEST_CASE("covers: hand-picked points", "[shapes]") {
  const auto at = [](Kind kind, float u, float v) {
    return covers(Object{kind, 0, 10.0f, 20.0f, 5.0f, {}}, 10.0f + 5 * u, 20.0f + 5 * v);
  };
  CHECK(at(Kind::circle, 0, 0));
  CHECK(at(Kind::circle, 0.7f, 0.7f));
  CHECK_FALSE(at(Kind::circle, 0.72f, 0.72f));
  CHECK_FALSE(at(Kind::ring, 0, 0));
  CHECK(at(Kind::ring, 0, 0.8f));
  CHECK_FALSE(at(Kind::frame, 0, 0));
  CHECK(at(Kind::frame, 0.7f, 0));
  CHECK(at(Kind::star, 0, -0.95f));         // the top point
  CHECK_FALSE(at(Kind::star, 0.5f, -0.7f));  // between two points
  CHECK(at(Kind::triangle, 0, 0.7f));
  CHECK_FALSE(at(Kind::triangle, 0.8f, -0.5f));
  CHECK(at(Kind::cross, 0.9f, 0.9f));
  CHECK_FALSE(at(Kind::cross, 0.9f, 0));
  CHECK(at(Kind::plus, 0.9f, 0));
  CHECK_FALSE(at(Kind::plus, 0.9f, 0.9f));
  CHECK(at(Kind::half_disc, 0, 0));
  CHECK_FALSE(at(Kind::half_disc, 0, 0.6f));
}

TEST_CASE("paint colours exactly the covered pixels and nothing else", "[shapes]") {
  const int side = 24;
  std::vector<float> pixels(3 * side * side, 0.25f);
  const Canvas canvas{side, side, pixels.data()};
  // Partly outside the canvas: the painted part is clipped.
  const Object object{Kind::star, 2, 20.0f, 6.0f, 9.0f, {0.1f, 0.2f, 0.9f}};
  const int painted = paint(canvas, object);
  int expected = 0;
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const bool in = covers(object, x + 0.5f, y + 0.5f);
      expected += in;
      for (int c = 0; c < 3; ++c) CHECK(canvas.at(c, y, x) == (in ? object.rgb[c] : 0.25f));
    }
  CHECK(painted == expected);
  CHECK(painted > 40);
}

TEST_CASE("choose_colour keeps a fill colour away from the background", "[shapes]") {
  kiln::SplitMix64 rng(3);
  for (int i = 0; i < 500; ++i) {
    const std::array<float, 3> base = {rng.uniform(0.1f, 0.9f), rng.uniform(0.1f, 0.9f),
                                       rng.uniform(0.1f, 0.9f)};
    Object object;
    choose_colour(object, base, rng);
    REQUIRE((object.colour >= 0 && object.colour < colour_count));
    float distance = 0;
    for (int c = 0; c < 3; ++c) {
      distance += std::abs(object.rgb[c] - base[c]);
      CHECK(std::abs(object.rgb[c] - palette[object.colour][c]) <= 0.08f + 1e-6f);
    }
    CHECK(distance >= 0.8f - 3 * 0.08f);
  }
}

TEST_CASE("shapes10: balanced, in range, the same for the same seed", "[shapes]") {
  const kiln::ImageSet a = make_shapes10(200, 7), b = make_shapes10(200, 7),
                       c = make_shapes10(200, 8);
  REQUIRE((a.count == 200 && a.channels == 3 && a.height == 32 && a.width == 32));
  REQUIRE(a.pixels.size() == 200u * 3 * 32 * 32);
  CHECK(a.pixels == b.pixels);
  CHECK(a.labels == b.labels);
  CHECK(a.pixels != c.pixels);
  for (int i = 0; i < a.count; ++i) CHECK(a.labels[i] == i % 10);
  CHECK(std::all_of(a.pixels.begin(), a.pixels.end(), [](float v) { return v >= 0 && v <= 1; }));

  const auto [train, held_out] = kiln::load_classification_data("shapes10", "");
  CHECK((train.count == 10'000 && held_out.count == 2'000));
  std::vector<int> per_class(10);
  for (int label : held_out.labels) ++per_class[label];
  for (int n : per_class) CHECK((n > 150 && n < 250));
}
