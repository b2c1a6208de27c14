#include "runtime/captions.hpp"

#include "runtime/error.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::captions {

namespace {

constexpr float min_half = 5, max_half = 8;

Shape random_shape(SplitMix64& rng) {
  Shape s;
  s.kind = int(rng.below(kind_count));
  s.colour = int(rng.below(colour_count));
  s.half = rng.uniform(min_half, max_half);
  return s;
}

// A centre coordinate that keeps the shape (half-size h) inside, in [lo, hi] as far as
// the image allows.
float place(SplitMix64& rng, float h, float lo, float hi) {
  lo = std::max(lo, h + 1);
  hi = std::min(hi, image_size - h - 1);
  return rng.uniform(lo, std::max(lo, hi));
}

void paint(std::vector<float>& image, const Shape& s, SplitMix64& rng) {
  shapes::Object o;
  o.kind = shapes::Kind(s.kind);
  o.colour = s.colour;
  o.cx = s.cx;
  o.cy = s.cy;
  o.half = s.half;
  for (int c = 0; c < 3; ++c)
    o.rgb[c] = std::clamp(shapes::palette[s.colour][c] + rng.uniform(-0.08f, 0.08f), 0.0f, 1.0f);
  shapes::paint({image_size, image_size, image.data()}, o);
}

}  // namespace

Sample make_sample(uint64_t seed, int64_t index) {
  SplitMix64 rng(seed * 0x2545f4914f6cdd1dull ^ (uint64_t(index) * 0x9e3779b97f4a7c15ull));
  Sample out;
  out.image.resize(std::size_t(3) * image_size * image_size);
  const float base = rng.uniform(0.05f, 0.3f);
  const float angle = rng.uniform(0.0f, 3.1416f), period = rng.uniform(4.0f, 12.0f);
  for (int y = 0; y < image_size; ++y)
    for (int x = 0; x < image_size; ++x) {
      const float stripe = 0.05f * std::sin((std::cos(angle) * x + std::sin(angle) * y) * 6.2832f / period);
      for (int c = 0; c < 3; ++c)
        out.image[(std::size_t(c) * image_size + y) * image_size + x] =
            std::clamp(base + stripe + rng.uniform(-0.04f, 0.04f), 0.0f, 1.0f);
    }
  const int count = rng.below(3) == 0 ? 1 : 2;
  Shape first = random_shape(rng);
  if (count == 1) {
    first.cx = place(rng, first.half, 0, image_size);
    first.cy = place(rng, first.half, 0, image_size);
    out.shapes = {first};
  } else {
    Shape second = random_shape(rng);
    out.above = rng.below(2) == 1;
    // Along the axis: the second past the first by both halves and a gap of 4 pixels
    // (the first placed so that there is room); across it, the second within half that
    // distance of the first.
    const float gap = first.half + second.half + 4;
    const float along_first = place(rng, first.half, 0, image_size - 1 - second.half - gap);
    const float along_second = place(rng, second.half, along_first + gap, image_size);
    const float spread = 0.5f * (along_second - along_first);
    const float across_first = place(rng, std::max(first.half, second.half), 0, image_size);
    const float across_second = place(rng, second.half, across_first - spread, across_first + spread);
    first.cx = out.above ? across_first : along_first;
    first.cy = out.above ? along_first : across_first;
    second.cx = out.above ? across_second : along_second;
    second.cy = out.above ? along_second : across_second;
    out.shapes = {first, second};
  }
  for (const Shape& s : out.shapes) paint(out.image, s, rng);
  for (std::size_t k = 0; k < out.shapes.size(); ++k) {
    if (k == 1) {
      if (out.above) out.caption.push_back(above_word);
      else out.caption.insert(out.caption.end(), {left_word, of_word});
    }
    const Shape& s = out.shapes[k];
    out.caption.insert(out.caption.end(), {a_word, first_colour_word + s.colour, first_shape_word + s.kind});
  }
  return out;
}

std::string sentence(const std::vector<int>& caption) {
  std::string text;
  for (const int w : caption) {
    if (w < 0 || w >= vocabulary) fail("caption: word id {} is outside the vocabulary (0..{})", w, vocabulary - 1);
    if (!text.empty()) text += ' ';
    text += words[std::size_t(w)];
  }
  return text;
}

void teacher_forcing(const std::vector<int>& caption, float* words_in, int32_t* labels) {
  if (int(caption.size()) >= steps) fail("caption: {} words do not fit {} steps with <end>", caption.size(), steps);
  for (int t = 0; t < steps; ++t) {
    labels[t] = t < int(caption.size()) ? caption[std::size_t(t)] : end_word;
    words_in[t] = float(t == 0 ? start_word : labels[t - 1]);
  }
}

std::vector<int> until_end(const int32_t* predicted) {
  std::vector<int> out;
  for (int t = 0; t < steps && predicted[t] != end_word; ++t) out.push_back(predicted[t]);
  return out;
}

bool cell_overlaps(int cell, int side, const Shape& shape) {
  const float size = float(image_size) / side;
  const float x0 = float(cell % side) * size, y0 = float(cell / side) * size;
  return x0 < shape.cx + shape.half && x0 + size > shape.cx - shape.half && y0 < shape.cy + shape.half &&
         y0 + size > shape.cy - shape.half;
}

namespace {
// From point (x, y) to the nearest point of the shape's box.
float distance_to_box(float x, float y, const Shape& s) {
  const float dx = std::max(0.0f, std::abs(x - s.cx) - s.half), dy = std::max(0.0f, std::abs(y - s.cy) - s.half);
  return std::sqrt(dx * dx + dy * dy);
}
}  // namespace

Landing landing(int cell, int side, const Sample& sample, int k) {
  const float size = float(image_size) / side;
  const float x = (float(cell % side) + 0.5f) * size, y = (float(cell / side) + 0.5f) * size;
  Landing l;
  l.on = cell_overlaps(cell, side, sample.shapes[std::size_t(k)]);
  l.nearer = sample.shapes.size() == 2 && distance_to_box(x, y, sample.shapes[std::size_t(k)]) <
                                              distance_to_box(x, y, sample.shapes[std::size_t(1 - k)]);
  return l;
}

}  // namespace kiln::captions
