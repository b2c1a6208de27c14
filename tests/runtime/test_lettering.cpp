// Labels in the 5 x 7 font, against glyphs worked by hand.
#include "runtime/lettering.hpp"

#include <catch2/catch.hpp>

namespace {
using namespace kiln;

TEST_CASE("draw_label paints a strip of background with the glyphs in ink, a pixel of margin around",
          "[lettering]") {
  Image image{3, 12, 20, std::vector<float>(3 * 12 * 20, 0.5f)};
  const float red[3] = {1, 0, 0}, blue[3] = {0, 0, 1};
  lettering::draw_label(image, 1, 2, "t-", red, blue);  // letters are drawn upper-case
  CHECK(lettering::label_width("t-") == 13);
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 20; ++x) {
      const bool strip = x >= 1 && x <= 13 && y >= 2 && y <= 10;
      // T: its top row (image row 3, columns 2..6) and its stem (column 4, rows 4..9);
      // '-' starts 6 columns on (column 8): its middle row (row 6), columns 8..12.
      const bool t = (y == 3 && x >= 2 && x <= 6) || (x == 4 && y >= 4 && y <= 9);
      const bool dash = y == 6 && x >= 8 && x <= 12;
      for (int c = 0; c < 3; ++c) {
        INFO("x " << x << ", y " << y << ", c " << c);
        CHECK(image.at(c, y, x) == (!strip ? 0.5f : t || dash ? blue[c] : red[c]));
      }
    }
}

TEST_CASE("glyphs: a hand-checked few; characters outside the font are blank", "[lettering]") {
  // O: a ring, 3 wide at top and bottom, both sides in between.
  for (int row = 0; row < 7; ++row)
    for (int column = 0; column < 5; ++column) {
      const bool edge_row = row == 0 || row == 6, side = column == 0 || column == 4;
      CHECK(lettering::inked('O', column, row) == (edge_row ? !side : side));
    }
  CHECK(lettering::inked('.', 1, 6));
  CHECK(!lettering::inked('.', 0, 6));
  CHECK(lettering::inked('1', 2, 3));
  CHECK(!lettering::inked('1', 0, 3));
  for (char c : {'?', ' ', '\n'})
    for (int row = 0; row < 7; ++row)
      for (int column = 0; column < 5; ++column) CHECK(!lettering::inked(c, column, row));
  CHECK(!lettering::inked('A', 5, 0));  // outside the glyph
  CHECK(!lettering::inked('A', 0, 7));
}

TEST_CASE("draw_label clips at the image's edges", "[lettering]") {
  Image image{3, 4, 5, std::vector<float>(3 * 4 * 5, 0.5f)};
  const float white[3] = {1, 1, 1}, black[3] = {0, 0, 0};
  lettering::draw_label(image, -3, -2, "square 0.97", white, black);
  // Strip pixel (u, v) lands at (u - 3, v - 2): rows 0..3 are strip rows 2..5, glyph rows
  // 1..4, and columns 0..4 strip columns 3..7: 'S' columns 2..4, the gap after it, 'Q' column 0.
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x) {
      const int column = x + 3 - 1, row = y + 2 - 1;
      const bool on = column < 5 ? lettering::inked('S', column, row) : lettering::inked('Q', column - 6, row);
      CHECK(image.at(0, y, x) == (on ? 0.0f : 1.0f));
    }
}

}  // namespace
