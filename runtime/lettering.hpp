// Text on images: labels in a 5 x 7 pixel font (letters, drawn upper-case; digits; '.',
// '-' and ' '; any other character is a blank), for the boxes predict draws.
#pragma once
#include <string_view>

#include "runtime/image.hpp"

namespace kiln::lettering {

inline constexpr int glyph_width = 5, glyph_height = 7;
inline constexpr int advance = glyph_width + 1;  // a column of space between characters
// A label is its text with a pixel of margin on every side.
inline constexpr int label_height = glyph_height + 2;
constexpr int label_width(std::string_view text) { return int(text.size()) * advance + 1; }

// Whether pixel (column, row) of character c's glyph is inked; (0, 0) is its top left.
bool inked(char c, int column, int row);

// Paints a label with its top-left corner at (x, y): a label_width x label_height strip
// of `background`, the text's glyphs in `ink` on it (RGB, in [0, 1]). Pixels outside the
// image are skipped. The image must have 3 or more channels.
void draw_label(Image& image, int x, int y, std::string_view text, const float* background,
                const float* ink);

}  // namespace kiln::lettering
