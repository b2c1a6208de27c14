#include "runtime/trainer.hpp"

#include "runtime/error.hpp"
#include "runtime/random.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unistd.h>

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

void draw_progress(std::FILE* log, int epoch, int epochs, int done, int total, double loss,
                   double images_per_second) {
  constexpr int width = 30;
  const int filled = total > 0 ? done * width / total : width;
  fmt::print(log, "\repoch {:>3}/{} [{:=<{}}{:<{}}] {:>3}%  loss {:.4f}  {:.0f} img/s ", epoch,
             epochs, "", filled, "", width - filled, total > 0 ? 100 * done / total : 100, loss,
             images_per_second);
  std::fflush(log);
}

}  // namespace

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
                                          const TrainConfig& config, std::FILE* log) {
  const bool terminal = isatty(fileno(log));
  BatchSampler sampler(train, {.batch_size = config.batch, .seed = config.seed,
                               .max_shift = config.augment_shift, .drop_last = true});
  const int steps_per_epoch = sampler.batches_per_epoch();
  const long long total_steps = (long long)steps_per_epoch * config.epochs;

  std::vector<float> images(std::size_t(config.batch) * train.image_size());
  std::vector<int32_t> labels(config.batch);
  std::vector<float> m(params.size(), 0.0f), v(params.size(), 0.0f);
  HyperParameters h = config.hyper;
  std::vector<EpochResult> results;
  long long step = 0;
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const auto start = Clock::now();
    double loss_sum = 0;
    int batches = 0;
    while (int n = sampler.next(images, labels)) {
      h.learning_rate = learning_rate_at(config.lr_schedule, config.hyper.learning_rate, step, total_steps);
      h.step = int(++step);
      // Each step draws its dropout masks from its own seed.
      const auto step_seed = uint32_t(SplitMix64(config.seed ^ uint64_t(step) << 32).next());
      const float loss = net.train_step(params.data(), m.data(), v.data(), params.buffers(),
                                        images.data(), labels.data(), n, step_seed, h);
      if (!std::isfinite(loss))
        fail("training diverged: the loss is {} at epoch {}, step {}; lower --lr (now {})",
             loss, epoch, step, config.hyper.learning_rate);
      loss_sum += loss;
      ++batches;
      if (terminal && (batches % 10 == 0 || batches == steps_per_epoch)) {
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        draw_progress(log, epoch, config.epochs, batches, steps_per_epoch, loss_sum / batches,
                      batches * config.batch / std::max(seconds, 1e-9));
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EpochResult r{epoch, loss_sum / std::max(batches, 1), accuracy(net, params, held_out),
                  batches * config.batch / std::max(seconds, 1e-9)};
    results.push_back(r);
    if (terminal) std::fputs("\r\033[K", log);
    fmt::print(log, "epoch {:>3}/{}  loss {:.4f}  held-out accuracy {:.2f} %  {:.0f} img/s\n",
               epoch, config.epochs, r.mean_loss, 100 * r.held_out_accuracy, r.images_per_second);
    std::fflush(log);
  }
  return results;
}

}  // namespace kiln
