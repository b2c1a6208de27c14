#include "runtime/trainer.hpp"

#include "runtime/step_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace kiln {

void softmax_rows(float* logits, int n, int k) {
  for (int i = 0; i < n; ++i) {
    float* row = logits + std::size_t(i) * k;
    const float m = *std::max_element(row, row + k);
    double total = 0;
    for (int j = 0; j < k; ++j) total += (row[j] = std::exp(row[j] - m));
    for (int j = 0; j < k; ++j) row[j] = float(row[j] / total);
  }
}

double accuracy(const Network& net, const Parameters& params, const ImageSet& set, int batch) {
  const int k = int(net.output_size());
  std::vector<float> logits(std::size_t(batch) * k);
  long long correct = 0;
  for (int first = 0; first < set.count; first += batch) {
    const int n = std::min(batch, set.count - first);
    net.forward(params.data(), params.buffers(), set.image(first), n, logits.data());
    for (int i = 0; i < n; ++i) {
      const float* row = logits.data() + std::size_t(i) * k;
      correct += int(std::max_element(row, row + k) - row) == set.labels[first + i];
    }
  }
  return set.count > 0 ? double(correct) / set.count : 0.0;
}

std::vector<EpochResult> train_classifier(const Network& net, Parameters& params,
                                          const ImageSet& train, const ImageSet& held_out,
                                          const StepLoop& loop, int augment_shift, std::FILE* log) {
  BatchSampler sampler(train, {.batch_size = loop.batch, .seed = loop.seed,
                               .max_shift = augment_shift, .drop_last = true});
  const std::size_t image_floats = std::size_t(loop.batch) * train.image_size();
  auto fill = [&](SplitMix64&, float* images, int32_t* labels, float*, float*) {
    // The sampler's own order; it says 0 once at the end of each epoch, then goes on.
    const std::span<float> i(images, image_floats);
    const std::span<int32_t> l(labels, std::size_t(loop.batch));
    if (sampler.next(i, l) == 0) sampler.next(i, l);
  };
  std::vector<EpochResult> results;
  auto done = [&](const EpochStats& s) {
    const EpochResult r{s.epoch, s.mean_loss, accuracy(net, params, held_out),
                        s.steps * loop.batch / std::max(s.seconds, 1e-9)};
    results.push_back(r);
    return fmt::format("held-out accuracy {:.2f} %", 100 * r.held_out_accuracy);
  };
  run_steps(net, params, loop, {.steps = sampler.batches_per_epoch()}, fill, done, log);
  return results;
}

}  // namespace kiln
