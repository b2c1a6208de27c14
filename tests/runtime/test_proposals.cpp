// The region proposal stage against hand-worked cases: its anchors, Faster R-CNN's
// matching of anchors to boxes (IoU thresholds and each box's best anchor), the deltas
// of a positive, and the proposals of a head: decoded, clipped, suppressed, padded.
#include "runtime/anchors.hpp"
#include "runtime/error.hpp"
#include "runtime/proposals.hpp"

#include <catch2/catch.hpp>

#include <cmath>

namespace {
using kiln::metrics::Box;
using kiln::proposals::Layout;

// A 32 x 32 image, a 4 x 4 grid (stride 8), anchors of sides 8 and 16.
Layout small_layout() {
  const float sizes[] = {8, 16};
  return kiln::proposals::layout_for(32, 4, sizes);
}
}  // namespace

TEST_CASE("proposal anchors: two per cell, cells row by row", "[proposals]") {
  const Layout l = small_layout();
  CHECK(l.stride == 8.0f);
  REQUIRE(l.anchors.size() == 4 * 4 * 2);
  CHECK(l.anchors[0].x0 == 0.0f);  // cell (0, 0), side 8: 0..8
  CHECK(l.anchors[0].x1 == 8.0f);
  CHECK(l.anchors[1].x0 == -4.0f);  // side 16: -4..12
  CHECK(l.anchors[2].x0 == 8.0f);   // cell (0, 1), side 8
  CHECK(l.anchors[8].y0 == 8.0f);   // cell (1, 0), side 8
  CHECK(l.channels() == 10);
}

TEST_CASE("proposal targets: positives, negatives and the untrained between, worked by hand", "[proposals]") {
  const Layout l = small_layout();
  const std::size_t plane = std::size_t(l.channels()) * 16;
  std::vector<float> t(2 * plane, NAN);
  // The box 0..8 x 0..12. Its IoUs: anchor (0, 0) side 8: 64 / 96 = 0.667, below 0.7 but
  // the box's best anchor, so a positive; (0, 0) side 16 (-4..12): 96 / 256 = 0.375,
  // between the thresholds, untrained; (1, 0) side 8 (0..8 x 8..16): 32 / 128 = 0.25,
  // a negative, like every anchor that misses the box.
  const Box box{0, 0, 8, 12};
  kiln::proposals::encode_targets(l, std::span(&box, 1), t.data());
  // The positive: objectness 1, deltas toward the box (centre 4, 6; 8 x 12).
  const kiln::anchors::Delta d = kiln::anchors::encode({0, 0, 8, 8}, box);
  const float want[5] = {1, d.dx, d.dy, d.dw, d.dh};
  for (int k = 0; k < 5; ++k) {
    CHECK(t[l.at(0, k, 0, 0)] == Approx(want[k]));
    CHECK(t[plane + l.at(0, k, 0, 0)] == 1.0f);
  }
  CHECK(d.dy == Approx(0.25f));  // (6 - 4) / 8
  CHECK(d.dh == Approx(std::log(1.5f)));
  CHECK(t[plane + l.at(1, 0, 0, 0)] == 0.0f);  // untrained
  CHECK(t[plane + l.at(0, 0, 1, 0)] == 1.0f);  // negative: objectness 0, weight 1
  CHECK(t[l.at(0, 0, 1, 0)] == 0.0f);
  int negatives = 0, positives = 0;
  for (int a = 0; a < 2; ++a)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        negatives += t[plane + l.at(a, 0, i, j)] == 1 && t[l.at(a, 0, i, j)] == 0;
        positives += t[l.at(a, 0, i, j)] == 1;
        for (int k = 1; k < 5; ++k)  // deltas only for the positive
          if (!(a == 0 && i == 0 && j == 0)) CHECK(t[plane + l.at(a, k, i, j)] == 0.0f);
      }
  CHECK(positives == 1);
  // Every anchor but the positive and the untrained one is a negative: the next best,
  // (0, 1) side 16 (4..20 x -4..12), has IoU 4 x 12 = 48 / 304 = 0.158.
  CHECK(negatives == 32 - 2);

  // No boxes: every anchor a negative. A bad box: an error.
  kiln::proposals::encode_targets(l, {}, t.data());
  for (std::size_t k = 0; k < plane; ++k) CHECK(t[plane + k] == (k / 16 % 5 == 0 ? 1.0f : 0.0f));
  const Box nan_box{NAN, 0, 4, 4}, flat_box{2, 2, 2, 6};
  CHECK_THROWS_WITH(kiln::proposals::encode_targets(l, std::span(&nan_box, 1), t.data()), Catch::Contains("non-finite"));
  CHECK_THROWS_WITH(kiln::proposals::encode_targets(l, std::span(&flat_box, 1), t.data()), Catch::Contains("no area"));
}

TEST_CASE("proposals: decoded and clipped by objectness, overlaps suppressed, padded", "[proposals]") {
  const Layout l = small_layout();
  std::vector<float> head(std::size_t(l.channels()) * 16, 0.0f);
  for (int a = 0; a < 2; ++a)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) head[l.at(a, 0, i, j)] = -10;  // nothing, but:
  head[l.at(0, 0, 2, 2)] = 5;  // the side-8 anchor of cell (2, 2): 16..24, as it is
  head[l.at(0, 0, 2, 3)] = 4;  // (2, 3) moved left by half its side: 20..28, IoU 4/12 = 1/3
  head[l.at(0, 1, 2, 3)] = -0.5f;
  head[l.at(1, 0, 2, 2)] = 3;  // side 16 at (2, 2): 12..28, holds the first (IoU 0.25)
  head[l.at(1, 0, 0, 0)] = 2;  // side 16 at (0, 0): -4..12, clipped to 0..12
  const std::vector<Box> got = kiln::proposals::propose(l, head.data(), 32, 3, 0.3f);
  REQUIRE(got.size() == 3);
  CHECK(got[0].x0 == 16.0f);
  CHECK(got[0].y1 == 24.0f);
  // The second (IoU 1/3 with the first) is suppressed at 0.3; the side-16 one stays.
  CHECK(got[1].x0 == 12.0f);
  CHECK(got[1].x1 == 28.0f);
  CHECK(got[2].x0 == 0.0f);
  CHECK(got[2].x1 == 12.0f);
  // Asked for more than the 32 anchors can give: padded with regions roi_align reads as
  // zeros.
  const std::vector<Box> more = kiln::proposals::propose(l, head.data(), 32, 40, 0.3f);
  REQUIRE(more.size() == 40);
  CHECK(more.back().x0 == kiln::proposals::no_region.x0);
}
