// Anchors and box encoding against values worked out by hand, the round trip
// decode(encode(box)) = box, torchvision's clamp of large size deltas, and bad input.
#include "runtime/anchors.hpp"
#include "runtime/error.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using kiln::anchors::Box;
using kiln::anchors::Delta;

namespace {
void check_box(const Box& got, const Box& want, float margin = 1e-4f) {
  CHECK(got.x0 == Approx(want.x0).margin(margin));
  CHECK(got.y0 == Approx(want.y0).margin(margin));
  CHECK(got.x1 == Approx(want.x1).margin(margin));
  CHECK(got.y1 == Approx(want.y1).margin(margin));
}
}  // namespace

TEST_CASE("grid anchors: centres on the cells, sides from size and ratio, cells then sizes then ratios", "[anchors]") {
  const float sizes[] = {16, 32}, ratios[] = {1, 4};
  const std::vector<Box> a = kiln::anchors::grid_anchors(2, 3, 8, sizes, ratios);
  REQUIRE(a.size() == 2 * 3 * 2 * 2);
  // Cell (0, 0): centre (4, 4). Size 16, ratio 1: 16 x 16. Size 16, ratio 4: 32 x 8.
  check_box(a[0], {-4, -4, 12, 12});
  check_box(a[1], {-12, 0, 20, 8});
  // Size 32, ratio 1: 32 x 32; ratio 4: 64 x 16.
  check_box(a[2], {-12, -12, 20, 20});
  check_box(a[3], {-28, -4, 36, 12});
  // Cell (0, 1): centre (12, 4); cell (1, 2), the last: centre (20, 12).
  check_box(a[4], {4, -4, 20, 12});
  check_box(a[23], {-12, 4, 52, 20});
}

TEST_CASE("box encoding: hand-worked deltas, weights, the round trip", "[anchors]") {
  // Anchor centre (20, 20), 20 x 10; box centre (25, 18), 40 x 5.
  const Box anchor{10, 15, 30, 25}, box{5, 15.5f, 45, 20.5f};
  const Delta d = kiln::anchors::encode(anchor, box);
  CHECK(d.dx == Approx(5.0 / 20));
  CHECK(d.dy == Approx(-2.0 / 10));
  CHECK(d.dw == Approx(std::log(2.0)));
  CHECK(d.dh == Approx(std::log(0.5)));
  const kiln::anchors::DeltaWeights weights{10, 10, 5, 5};
  const Delta w = kiln::anchors::encode(anchor, box, weights);
  CHECK(w.dx == Approx(2.5));
  CHECK(w.dh == Approx(5 * std::log(0.5)));
  check_box(kiln::anchors::decode(anchor, d), box);
  check_box(kiln::anchors::decode(anchor, w, weights), box);
  // A zero delta is the anchor itself.
  check_box(kiln::anchors::decode(anchor, Delta{}), anchor);
}

TEST_CASE("box decoding clamps size deltas at log(1000 / 16), as torchvision", "[anchors]") {
  const Box anchor{0, 0, 16, 16};
  const Box big = kiln::anchors::decode(anchor, Delta{0, 0, 100, 100});
  CHECK(big.x1 - big.x0 == Approx(1000).epsilon(1e-5));
  CHECK(big.y1 - big.y0 == Approx(1000).epsilon(1e-5));
  CHECK(std::isfinite(big.x0));
}

TEST_CASE("anchors and encoding: bad input is a kiln::Error", "[anchors]") {
  const float sizes[] = {16}, ratios[] = {1}, zero[] = {0};
  CHECK_THROWS_AS(kiln::anchors::grid_anchors(0, 3, 8, sizes, ratios), kiln::Error);
  CHECK_THROWS_AS(kiln::anchors::grid_anchors(2, 3, 0, sizes, ratios), kiln::Error);
  CHECK_THROWS_AS(kiln::anchors::grid_anchors(2, 3, 8, zero, ratios), kiln::Error);
  CHECK_THROWS_AS(kiln::anchors::grid_anchors(2, 3, 8, sizes, zero), kiln::Error);
  CHECK_THROWS_AS(kiln::anchors::grid_anchors(2, 3, 8, {}, ratios), kiln::Error);
  const Box good{0, 0, 4, 4}, flat{0, 0, 4, 0};
  CHECK_THROWS_AS(kiln::anchors::encode(flat, good), kiln::Error);
  CHECK_THROWS_AS(kiln::anchors::encode(good, flat), kiln::Error);
  CHECK_THROWS_AS(kiln::anchors::decode(flat, Delta{}), kiln::Error);
}
