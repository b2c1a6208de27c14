// MNIST images in memory, the train / held-out split, and a batch sampler with
// random-translation augmentation. The data is data/mnist (see its README).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "runtime/random.hpp"

namespace kiln {

struct ImageSet {
  int count = 0, channels = 0, height = 0, width = 0;
  std::vector<float> pixels;    // (count, channels, height, width), in [0, 1]
  std::vector<int32_t> labels;  // (count)

  size_t image_size() const { return size_t(channels) * height * width; }
  const float* image(int i) const { return pixels.data() + i * image_size(); }
};

// Reads dir/digits.png (2800x2800 gray, 100x100 tiles of 28x28) and dir/labels.bin
// (10,000 bytes, 0..9): 10,000 images of 1x28x28, raw intensities, not normalized.
// Throws kiln::Error naming the file if either is missing or the wrong size.
ImageSet load_mnist(const std::string& dir);

// Shuffles the indices with SplitMix64(seed); the first train_count go to the first
// set, the rest to the second, each in shuffled order. The spine uses 8,000 / 2,000
// with seed 0.
std::pair<ImageSet, ImageSet> split(const ImageSet& set, int train_count, uint64_t seed);

// dst = src moved by (dx, dy) pixels: dst(c, y, x) = src(c, y - dy, x - dx), zero
// where that falls outside. src, dst: (channels, height, width), not overlapping.
void translate(const float* src, float* dst, int channels, int height, int width, int dx,
               int dy);

struct SamplerOptions {
  int batch_size = 256;
  uint64_t seed = 0;
  // Augmentation: each image moves by dx, dy drawn independently and uniformly from
  // [-max_shift, max_shift] (integer pixels, zeros shifted in). 0: no augmentation.
  int max_shift = 0;
  // true (training): the last count % batch_size images of an epoch are skipped, so
  // every batch is full. false (evaluation): the last batch is returned smaller.
  bool drop_last = true;
};

// Yields epochs of batches. Each epoch visits the images in a fresh order from the
// sampler's own RNG, which also draws the shifts, so equal seeds give equal batches.
//
//   BatchSampler sampler(train, {.batch_size = 256, .seed = 0, .max_shift = 2});
//   for (int epoch = 0; epoch < epochs; ++epoch)
//     while (int n = sampler.next(images, labels)) step(images, labels, n);
class BatchSampler {
 public:
  // set must outlive the sampler.
  BatchSampler(const ImageSet& set, SamplerOptions options);
  BatchSampler(ImageSet&&, SamplerOptions) = delete;  // would dangle

  // Fills the first n images (n, C, H, W) and labels (n) and returns n: batch_size, or
  // less for the last batch when !drop_last. Returns 0 once the epoch is over; the
  // next call starts the next epoch. images and labels must hold a full batch.
  int next(std::span<float> images, std::span<int32_t> labels);

  int batches_per_epoch() const;
  int epoch() const { return epoch_; }  // epochs started so far

 private:
  const ImageSet& set_;
  SamplerOptions options_;
  SplitMix64 rng_;
  std::vector<int> order_;
  size_t position_ = 0;  // next index into order_
  int epoch_ = 0;
  bool epoch_over_ = true;
};

}  // namespace kiln
