// A procedural captioning set: images of one or two coloured shapes with a sentence that
// says what they are and where, "a red circle" or "a red circle left of a blue square" /
// "a green triangle above a yellow circle" (the left or upper shape first), for a
// captioner with soft attention (models/captioner.hpp). Sample i depends only on
// (seed, i); a held-out split is another range of indices.
#pragma once
#include "runtime/shapes.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::captions {

// The vocabulary: word ids as the captioner's tokens and classes.
inline constexpr std::array<std::string_view, 13> words = {
    "<end>", "<start>", "a", "left", "of", "above", "red", "green", "blue", "yellow",
    "circle", "square", "triangle"};
inline constexpr int vocabulary = int(words.size());
inline constexpr int end_word = 0, start_word = 1, a_word = 2, left_word = 3, of_word = 4, above_word = 5;
inline constexpr int first_colour_word = 6, first_shape_word = 10;
inline constexpr int colour_count = 4, kind_count = 3;
// Steps: the longest caption, "a c s left of a c s", and its <end>.
inline constexpr int steps = 9;
inline constexpr int image_size = 48;

// One shape of a sample: its kind (circle, square, triangle), colour (red, green, blue,
// yellow: shapes::palette's first four), centre and half-size in pixels.
struct Shape {
  int kind = 0, colour = 0;
  float cx = 0, cy = 0, half = 0;
};

struct Sample {
  std::vector<float> image;  // (3, image_size, image_size), in [0, 1]
  std::vector<Shape> shapes;  // in the caption's order
  bool above = false;         // two shapes: one above the other (else side by side)
  std::vector<int> caption;   // word ids, without <start> or <end>
};

// Sample `index` of the set `seed`: a dark textured background; a third of the samples
// hold one shape, the rest two, side by side or one above the other (half each), with a
// clear gap between them along that axis and less offset across it than along it.
Sample make_sample(uint64_t seed, int64_t index);

// The words as text: "a red circle left of a blue square".
std::string sentence(const std::vector<int>& caption);

// A caption as the decoder's words and labels for teacher forcing: words[t] the word
// before step t (<start>, then the caption), labels[t] the word at step t (the caption,
// then <end> to the last step). Both `steps` long.
void teacher_forcing(const std::vector<int>& caption, float* words, int32_t* labels);

// Greedy decoding's result for one sample: the words up to (not including) the first
// <end> of `steps` predicted ids.
std::vector<int> until_end(const int32_t* predicted);

// Whether cell `cell` of a grid of side x side cells over the image (row-major) overlaps
// the shape's box (its centre +- half).
bool cell_overlaps(int cell, int side, const Shape& shape);

// Where a cell lands relative to shape k of a sample: on it (cell_overlaps), and, for a
// sample of two shapes, whether its centre is nearer to this shape's box than to the
// other's (to the nearest point of each).
struct Landing {
  bool on = false, nearer = false;
};
Landing landing(int cell, int side, const Sample& sample, int k);

}  // namespace kiln::captions
