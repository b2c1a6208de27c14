// Procedural images of coloured shapes on textured backgrounds, the same for the same
// seed: the classification set "shapes10" (one shape per 32 x 32 image; the shape, not
// its colour, is the class), and the pieces later scene sets build on (several shapes
// per image, each with its bounding box and its pixel mask).
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "runtime/mnist.hpp"
#include "runtime/random.hpp"

namespace kiln::shapes {

enum class Kind : uint8_t {
  circle, square, triangle, diamond, plus, cross, ring, frame, star, half_disc
};
inline constexpr int kind_count = 10;
inline constexpr std::array<std::string_view, kind_count> kind_names = {
    "circle", "square", "triangle", "diamond", "plus",
    "cross",  "ring",   "frame",    "star",    "half-disc"};

// Named fill colours, drawn independently of the kind.
inline constexpr int colour_count = 8;
inline constexpr std::array<std::string_view, colour_count> colour_names = {
    "red", "green", "blue", "yellow", "magenta", "cyan", "orange", "white"};
inline constexpr float palette[colour_count][3] = {
    {0.90f, 0.10f, 0.10f}, {0.10f, 0.80f, 0.20f}, {0.15f, 0.25f, 0.95f}, {0.95f, 0.90f, 0.10f},
    {0.90f, 0.15f, 0.85f}, {0.10f, 0.85f, 0.90f}, {1.00f, 0.55f, 0.05f}, {0.97f, 0.97f, 0.97f}};

// One shape in pixel units: centred at (cx, cy), reaching `half` pixels from the centre
// in x and y at most (its box is at most 2 half wide), filled with `rgb`.
struct Object {
  Kind kind = Kind::circle;
  int colour = 0;  // index into palette / colour_names
  float cx = 0, cy = 0, half = 1;
  std::array<float, 3> rgb{};
};

// Whether the point (x, y) (pixel units; pixel (i, j) has its centre at (i + 0.5,
// j + 0.5)) lies inside the object.
bool covers(const Object& object, float x, float y);

// An RGB image (3, height, width) in [0, 1].
struct Canvas {
  int height = 0, width = 0;
  float* pixels = nullptr;
  float& at(int c, int y, int x) const { return pixels[(size_t(c) * height + y) * width + x]; }
};

// Fills the canvas with a texture: a random base colour, stripes of random direction,
// period and strength, and per-pixel noise. Returns the base colour.
std::array<float, 3> paint_background(const Canvas& canvas, SplitMix64& rng);

// A fill colour for an object on a background of base colour `base`: a palette entry
// far enough from the base to be seen (L1 distance >= 0.8), jittered by up to 0.08 per
// channel. Sets object.colour and object.rgb.
void choose_colour(Object& object, const std::array<float, 3>& base, SplitMix64& rng);

// Paints the object's pixels (those whose centres it covers) over the canvas. Returns
// how many pixels it painted.
int paint(const Canvas& canvas, const Object& object);

// "shapes10": `count` images of 3 x 32 x 32, image i of kind i % 10, half-size 6 to 13
// pixels, placed so that the whole shape is inside, on a random textured background.
// The same (count, seed) gives the same set.
ImageSet make_shapes10(int count, uint64_t seed);

// "shape_windows": `count` windows of 3 x 32 x 32 for a sliding-window detector over the
// scenes (runtime/scenes.hpp), label i % 4: 0 background, 1 + k a circle, square or
// triangle (Kind k) of half-size 6 to 13 centred within 3 pixels of the window's centre.
// Half the background windows show only texture; the other half show part of a shape
// whose centre lies 12 to 20 pixels from the window's centre, so that a detector learns
// to fire on centred shapes only. The same (count, seed) gives the same set.
ImageSet make_shape_windows(int count, uint64_t seed);

}  // namespace kiln::shapes
