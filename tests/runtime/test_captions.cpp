// The procedural captions: determinism, captions that say what the image shows (each
// shape's colour and kind at its place, the left or upper one first, the relation
// clear), teacher forcing, decoding and the attention scores' grid cells.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "runtime/captions.hpp"
#include "support.hpp"

using namespace kiln::captions;

namespace {

// The painted pixels of a shape's colour near its centre: a shape of half-size >= 5 is
// at least a 3 x 3 block of its colour (jittered by at most 0.08 per channel) there.
bool painted_at(const Sample& s, const Shape& shape) {
  const float* rgb = kiln::shapes::palette[shape.colour];
  auto at = [&](int c, int y, int x) { return s.image[(std::size_t(c) * image_size + y) * image_size + x]; };
  const int x = int(shape.cx), y = int(shape.cy);
  for (int c = 0; c < 3; ++c)
    if (std::abs(at(c, y, x) - rgb[c]) > 0.09f) return false;
  return true;
}

}  // namespace

TEST_CASE("captions: sample i depends on (seed, i) alone", "[captions]") {
  const Sample a = make_sample(3, 17), b = make_sample(3, 17), c = make_sample(3, 18), d = make_sample(4, 17);
  CHECK(a.image == b.image);
  CHECK(a.caption == b.caption);
  CHECK(a.image != c.image);
  CHECK(a.image != d.image);
}

TEST_CASE("captions: each sentence says what the image shows", "[captions]") {
  std::map<std::size_t, int> lengths;
  int above = 0, beside = 0;
  for (int i = 0; i < 600; ++i) {
    INFO("sample " << i);
    const Sample s = make_sample(0, i);
    REQUIRE(s.image.size() == std::size_t(3) * image_size * image_size);
    for (float v : s.image) REQUIRE((v >= 0.0f && v <= 1.0f));
    REQUIRE((s.shapes.size() == 1 || s.shapes.size() == 2));
    ++lengths[s.caption.size()];
    for (std::size_t k = 0; k < s.shapes.size(); ++k) {
      const Shape& shape = s.shapes[k];
      // Inside the image, painted in its colour, named by the caption in order.
      CHECK(shape.cx - shape.half >= 0);
      CHECK(shape.cx + shape.half <= image_size);
      CHECK(shape.cy - shape.half >= 0);
      CHECK(shape.cy + shape.half <= image_size);
      CHECK(painted_at(s, shape));
      const std::size_t first = k == 0 ? 0 : s.caption.size() - 3;
      CHECK(s.caption[first] == a_word);
      CHECK(s.caption[first + 1] == first_colour_word + shape.colour);
      CHECK(s.caption[first + 2] == first_shape_word + shape.kind);
    }
    if (s.shapes.size() == 2) {
      // The first named is left of (above) the second, by both half-sizes and a gap, and
      // closer across that axis than along it.
      const Shape &p = s.shapes[0], &q = s.shapes[1];
      const float along = s.above ? q.cy - p.cy : q.cx - p.cx, across = s.above ? q.cx - p.cx : q.cy - p.cy;
      CHECK(along >= p.half + q.half + 4 - 1e-4f);
      CHECK(std::abs(across) <= along / 2 + 1e-4f);
      const std::vector<int> relation(s.caption.begin() + 3, s.caption.end() - 3);
      CHECK(relation == (s.above ? std::vector<int>{above_word} : std::vector<int>{left_word, of_word}));
      (s.above ? above : beside)++;
    }
  }
  // A third single shapes, the rest pairs half above, half beside (600 samples: within
  // a few standard deviations).
  CHECK(lengths.size() == 3);
  CHECK(lengths[3] > 150);
  CHECK(lengths[3] < 250);
  CHECK(above > 150);
  CHECK(beside > 150);
}

TEST_CASE("captions: words as text, teacher forcing and decoding", "[captions]") {
  const std::vector<int> caption{a_word, first_colour_word + 2, first_shape_word + 1, left_word, of_word,
                                 a_word, first_colour_word, first_shape_word};
  CHECK(sentence(caption) == "a blue square left of a red circle");
  float in[steps];
  int32_t labels[steps];
  teacher_forcing(caption, in, labels);
  CHECK(in[0] == float(start_word));
  for (int t = 1; t < steps; ++t) CHECK(in[t] == float(caption[t - 1]));
  for (int t = 0; t < 8; ++t) CHECK(labels[t] == caption[t]);
  CHECK(labels[8] == end_word);
  const std::vector<int> short_caption{a_word, first_colour_word + 3, first_shape_word + 2};
  teacher_forcing(short_caption, in, labels);
  CHECK(sentence(short_caption) == "a yellow triangle");
  const int32_t want[steps] = {a_word, first_colour_word + 3, first_shape_word + 2, 0, 0, 0, 0, 0, 0};
  CHECK(std::equal(labels, labels + steps, want));
  CHECK(in[4] == float(end_word));
  CHECK(until_end(labels) == short_caption);
  const int32_t stray[steps] = {a_word, end_word, a_word, 0, 0, 0, 0, 0, 0};  // the first <end> ends it
  CHECK(until_end(stray) == std::vector<int>{a_word});
  CHECK_THROWS_WITH(sentence({a_word, 13}), "caption: word id 13 is outside the vocabulary (0..12)");
  CHECK_THROWS_WITH(teacher_forcing(std::vector<int>(9, a_word), in, labels),
                    "caption: 9 words do not fit 9 steps with <end>");
}

TEST_CASE("captions: a grid cell overlaps a shape's box", "[captions]") {
  // A 6 x 6 grid over 48 pixels: cells of 8. A shape at (20, 12) of half 3 spans x 17..23,
  // y 9..15: cells x 2, y 1 only.
  const Shape s{.kind = 0, .colour = 0, .cx = 20, .cy = 12, .half = 3};
  for (int cell = 0; cell < 36; ++cell) CHECK(cell_overlaps(cell, 6, s) == (cell == 1 * 6 + 2));
  // Half 5 spans 15..25 and 7..17: cells x 1..3, y 0..2.
  const Shape big{.kind = 0, .colour = 0, .cx = 20, .cy = 12, .half = 5};
  for (int cell = 0; cell < 36; ++cell) {
    const int x = cell % 6, y = cell / 6;
    CHECK(cell_overlaps(cell, 6, big) == (x >= 1 && x <= 3 && y <= 2));
  }
}

TEST_CASE("captions: where a grid cell lands: on a shape, nearer it than the other", "[captions]") {
  // Shapes at (20, 12) and (36, 12), half 3: boxes x 17..23 and 33..39, y 9..15.
  Sample two;
  two.shapes = {Shape{.kind = 0, .colour = 0, .cx = 20, .cy = 12, .half = 3},
                Shape{.kind = 1, .colour = 1, .cx = 36, .cy = 12, .half = 3}};
  for (int cell = 0; cell < 36; ++cell) {
    const int x = cell % 6;
    // Cell centres at x 4, 12, ..., 44: x 28 (cell 3) is 5 from both boxes, nearer neither.
    CHECK(landing(cell, 6, two, 0).on == (cell == 1 * 6 + 2));
    CHECK(landing(cell, 6, two, 1).on == (cell == 1 * 6 + 4));
    CHECK(landing(cell, 6, two, 0).nearer == (x <= 2));
    CHECK(landing(cell, 6, two, 1).nearer == (x >= 4));
  }
  // One shape: nothing to be nearer to it than.
  Sample one;
  one.shapes = {two.shapes[0]};
  for (int cell = 0; cell < 36; ++cell) CHECK_FALSE(landing(cell, 6, one, 0).nearer);
}
