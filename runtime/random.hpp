// A small deterministic RNG for data order and augmentation. std::uniform_*_distribution
// is not used anywhere: its output differs between standard libraries, and a seed must
// give the same batches on every machine.
#pragma once
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace kiln {

// splitmix64 (Steele, Lea, Flood 2014): one 64-bit add and a mix per draw; passes
// BigCrush, and any seed, 0 included, is a good one.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound), bound >= 1: Lemire's multiply-shift with rejection, exact.
  uint32_t below(uint32_t bound) {
    uint64_t product = uint64_t(uint32_t(next() >> 32)) * bound;
    if (uint32_t(product) < bound) {
      const uint32_t threshold = uint32_t(-bound) % bound;
      while (uint32_t(product) < threshold) product = uint64_t(uint32_t(next() >> 32)) * bound;
    }
    return uint32_t(product >> 32);
  }

  // Uniform between lo and hi: 24 random bits, every multiple of 2^-24 in [0, 1) equally
  // likely, then scaled (rounding may give hi itself).
  float uniform(float lo = 0.0f, float hi = 1.0f) {
    return lo + (hi - lo) * (float(next() >> 40) * 0x1.0p-24f);
  }

 private:
  uint64_t state_;
};

// Fisher-Yates: every order equally likely, same order for the same RNG state.
template <class T>
void shuffle(std::vector<T>& items, SplitMix64& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(uint32_t(i))]);
}

inline std::vector<int> iota_indices(int count) {
  std::vector<int> indices(count);
  std::iota(indices.begin(), indices.end(), 0);
  return indices;
}

}  // namespace kiln
