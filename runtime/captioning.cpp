#include "runtime/captioning.hpp"

#include "runtime/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace kiln::captioning {

namespace {
using captions::steps;
using captions::vocabulary;
constexpr std::size_t image_floats = std::size_t(3) * captions::image_size * captions::image_size;
}  // namespace

int grid_side(const ModelView& model) {
  const SideInput side = side_input(model);
  const Shape in = model.input_shape(), out = model.output_shape(), att = attention_shape(model);
  const int L = att.rank == 2 ? att[1] : 0, s = int(std::lround(std::sqrt(double(L))));
  if (in != shape(3, captions::image_size, captions::image_size) || side.kind != SideKind::words ||
      side.rows != steps || out != shape(steps, vocabulary) || att.rank != 2 || s * s != L)
    fail("{} is not a captioner of the procedural captions: it should read 3 x {} x {} images and {} words, "
         "give ({}, {}) logits and attend over a square grid", model.name, captions::image_size,
         captions::image_size, steps, steps, vocabulary);
  return s;
}

std::vector<int32_t> greedy(const Network& net, const Parameters& params, const float* images, int count,
                            std::vector<float>* attention, int batch) {
  const int side = grid_side(net.view()), L = side * side;
  std::vector<int32_t> predicted(std::size_t(count) * steps, captions::end_word);
  std::vector<float> words(std::size_t(batch) * steps), logits(std::size_t(batch) * steps * vocabulary);
  if (attention) attention->assign(std::size_t(count) * steps * L, 0.0f);
  for (int first = 0; first < count; first += batch) {
    const int n = std::min(batch, count - first);
    const float* in = images + first * image_floats;
    std::fill(words.begin(), words.end(), float(captions::end_word));
    for (int s = 0; s < n; ++s) words[std::size_t(s) * steps] = float(captions::start_word);
    for (int t = 0; t < steps; ++t) {
      net.forward(params.data(), params.buffers(), in, n, logits.data(), words.data());
      for (int s = 0; s < n; ++s) {
        const float* row = logits.data() + (std::size_t(s) * steps + t) * vocabulary;
        const int best = int(std::max_element(row, row + vocabulary) - row);
        predicted[(std::size_t(first) + s) * steps + t] = best;
        if (t + 1 < steps) words[std::size_t(s) * steps + t + 1] = float(best);
      }
    }
    // The weights of every step, for the words just chosen.
    if (attention) net.attention(params.data(), params.buffers(), in, n, attention->data() + std::size_t(first) * steps * L,
                                 words.data());
  }
  return predicted;
}

Scores evaluate(const Network& net, const Parameters& params, const Split& split) {
  const int side = grid_side(net.view()), L = side * side;
  std::vector<captions::Sample> samples;
  std::vector<float> images(split.held_out * image_floats);
  for (int i = 0; i < split.held_out; ++i) {
    samples.push_back(captions::make_sample(split.held_out_seed, i));
    std::copy(samples.back().image.begin(), samples.back().image.end(), images.begin() + i * image_floats);
  }
  std::vector<float> attention;
  const std::vector<int32_t> predicted = greedy(net, params, images.data(), split.held_out, &attention);
  Scores s;
  s.count = split.held_out;
  int exact = 0, words_right = 0, on_object = 0, nearer_object = 0;
  double chance_on = 0, chance_nearer = 0;
  for (int i = 0; i < split.held_out; ++i) {
    const captions::Sample& sample = samples[std::size_t(i)];
    std::vector<float> w(steps);
    std::vector<int32_t> truth(steps);
    captions::teacher_forcing(sample.caption, w.data(), truth.data());
    const int32_t* got = predicted.data() + std::size_t(i) * steps;
    int right = 0;
    for (int t = 0; t < steps; ++t) right += got[t] == truth[t];
    words_right += right;
    if (captions::until_end(got) != sample.caption) continue;
    ++exact;
    // The colour and shape words: positions 1 and 2 name the first shape, those after
    // the relation's words the second.
    for (int t = 0; t < int(sample.caption.size()); ++t) {
      const int word = sample.caption[std::size_t(t)];
      if (word < captions::first_colour_word) continue;
      const int k = t < 3 ? 0 : 1;
      const float* a = attention.data() + (std::size_t(i) * steps + t) * L;
      const captions::Landing at = captions::landing(int(std::max_element(a, a + L) - a), side, sample, k);
      on_object += at.on;
      nearer_object += at.nearer;
      for (int cell = 0; cell < L; ++cell) {
        const captions::Landing any = captions::landing(cell, side, sample, k);
        chance_on += double(any.on) / L;
        chance_nearer += double(any.nearer) / L;
      }
      ++s.attended;
      s.two_shapes += sample.shapes.size() == 2;
    }
  }
  s.exact = double(exact) / split.held_out;
  s.words = double(words_right) / (double(split.held_out) * steps);
  const double words = std::max(s.attended, 1), pairs = std::max(s.two_shapes, 1);
  s.on_object = on_object / words;
  s.nearer_object = nearer_object / pairs;
  s.chance_on = chance_on / words;
  s.chance_nearer = chance_nearer / pairs;
  return s;
}

std::string summary(const Scores& s) {
  return fmt::format("exact {:.1f} %, words {:.1f} %, attention on the named shape {:.1f} % (chance {:.1f} %) of {} "
                     "words, nearer it than the other {:.1f} % (chance {:.1f} %) of {}",
                     100 * s.exact, 100 * s.words, 100 * s.on_object, 100 * s.chance_on, s.attended,
                     100 * s.nearer_object, 100 * s.chance_nearer, s.two_shapes);
}

std::vector<Epoch> train(const Network& net, Parameters& params, const Split& split, const StepLoop& loop,
                         std::FILE* log) {
  grid_side(net.view());
  auto fill = [&](SplitMix64& rng, float* input, int32_t* labels, float*, float* words) {
    for (int s = 0; s < loop.batch; ++s) {
      const captions::Sample sample = captions::make_sample(split.seed, int64_t(rng.next() >> 24));
      std::copy(sample.image.begin(), sample.image.end(), input + s * image_floats);
      captions::teacher_forcing(sample.caption, words + s * steps, labels + s * steps);
    }
  };
  std::vector<Epoch> epochs;
  auto judge = [&](const EpochStats& stats) {
    epochs.push_back({stats, evaluate(net, params, split)});
    return "held-out " + summary(epochs.back().scores);
  };
  run_steps(net, params, loop, {.steps = std::max(1, split.epoch_samples / loop.batch)}, fill, judge, log);
  return epochs;
}

Image attention_strip(const Image& image, const float* attention, int side, int words, int zoom) {
  const int H = image.height * zoom, W = image.width * zoom;
  Image out;
  out.channels = 3;
  out.height = H;
  out.width = W * (1 + words);
  out.pixels.assign(std::size_t(3) * out.height * out.width, 0.0f);
  auto pixel = [&](int c, int y, int x) { return image.at(std::min(c, image.channels - 1), y / zoom, x / zoom); };
  for (int panel = 0; panel <= words; ++panel) {
    const float* a = panel > 0 ? attention + std::size_t(panel - 1) * side * side : nullptr;
    const float top = a ? *std::max_element(a, a + side * side) : 1.0f;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        float weight = 1.0f;
        if (a) {  // the grid's weights at this pixel, bilinearly between cell centres
          const float gx = std::clamp((x + 0.5f) * side / W - 0.5f, 0.0f, side - 1.0f);
          const float gy = std::clamp((y + 0.5f) * side / H - 0.5f, 0.0f, side - 1.0f);
          const int x0 = std::min(int(gx), std::max(side - 2, 0)), y0 = std::min(int(gy), std::max(side - 2, 0));
          const int x1 = std::min(x0 + 1, side - 1), y1 = std::min(y0 + 1, side - 1);
          const float fx = gx - x0, fy = gy - y0;
          const float v = (1 - fy) * ((1 - fx) * a[y0 * side + x0] + fx * a[y0 * side + x1]) +
                          fy * ((1 - fx) * a[y1 * side + x0] + fx * a[y1 * side + x1]);
          weight = 0.15f + 0.85f * std::clamp(v / std::max(top, 1e-12f), 0.0f, 1.0f);
        }
        for (int c = 0; c < 3; ++c) out.at(c, y, panel * W + x) = pixel(c, y, x) * weight;
      }
  }
  return out;
}

}  // namespace kiln::captioning
