#include "runtime/step_loop.hpp"

#include "runtime/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unistd.h>
#include <utility>

namespace kiln {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
}  // namespace

std::vector<EpochStats> run_steps(const Network& net, Parameters& params, const StepLoop& loop,
                                  const EpochPlan& plan, const FillBatch& fill,
                                  const EpochDone& done, std::FILE* log) {
  const bool terminal = isatty(fileno(log));
  const long long total_steps = (long long)plan.steps * loop.epochs;
  SplitMix64 rng(loop.seed);
  std::vector<float> input(std::size_t(loop.batch) * net.sample_size());
  std::vector<int32_t> labels(std::size_t(loop.batch) * net.labels_size());
  std::vector<float> targets(std::size_t(loop.batch) * net.targets_size());
  std::vector<float> side(std::size_t(loop.batch) * net.side_size());
  const BatchLabels truth = uses_targets(net.view()) ? BatchLabels(targets.data()) : BatchLabels(labels.data());
  std::vector<float> m(params.size(), 0.0f), v(params.size(), 0.0f);
  // The recurrent state each step starts from and the one it ends with (carry_state).
  std::vector<float> state_in(plan.carry_state ? std::size_t(loop.batch) * net.carried_size() : 0), state_out;
  HyperParameters h = loop.hyper;
  std::vector<EpochStats> results;
  long long step = 0;
  const auto start = Clock::now();
  for (int epoch = 1; epoch <= loop.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    EpochStats s{epoch};
    double loss_sum = 0;
    std::fill(state_in.begin(), state_in.end(), 0.0f);
    state_out.assign(state_in.size(), 0.0f);
    for (; s.steps < plan.steps; ++s.steps) {
      if (loop.minutes > 0 && seconds_since(start) > 60 * loop.minutes) {
        s.out_of_time = true;
        break;
      }
      fill(rng, input.data(), labels.data(), targets.data(), side.data());
      h.learning_rate = learning_rate_at(loop.lr_schedule, loop.hyper.learning_rate, step, total_steps);
      h.step = int(++step);
      // Each step draws its dropout masks from its own seed.
      const auto step_seed = uint32_t(SplitMix64(loop.seed ^ uint64_t(step) << 32).next());
      const Carry carry = state_in.empty() ? Carry{} : Carry{state_in.data(), state_out.data()};
      const float loss = net.train_step(params.data(), m.data(), v.data(), params.buffers(),
                                        input.data(), truth, loop.batch, step_seed, h,
                                        side.empty() ? nullptr : side.data(), carry);
      std::swap(state_in, state_out);
      if (!std::isfinite(loss))
        fail("training diverged: the loss is {} at epoch {}, step {}; lower --lr (now {})", loss,
             epoch, step, loop.hyper.learning_rate);
      loss_sum += loss;
      if (terminal && (s.steps % 5 == 0 || s.steps + 1 == plan.steps)) {
        constexpr int width = 30;
        const int filled = (s.steps + 1) * width / plan.steps;
        const double rate = (s.steps + 1) * loop.batch * plan.units_per_sample /
                            std::max(seconds_since(epoch_start), 1e-9);
        fmt::print(log, "\repoch {:>3}/{} [{:=<{}}{:<{}}] {:>3}%  loss {:.4f}  {:.0f} {}/s ", epoch,
                   loop.epochs, "", filled, "", width - filled,
                   100 * (s.steps + 1) / plan.steps, loss_sum / (s.steps + 1), rate, plan.unit);
        std::fflush(log);
      }
    }
    if (s.steps == 0) break;
    s.mean_loss = loss_sum / s.steps;
    s.seconds = seconds_since(epoch_start);
    s.total_seconds = seconds_since(start);
    results.push_back(s);
    const std::string line = done(s);  // the evaluation: not training time
    if (terminal) std::fputs("\r\033[K", log);
    fmt::print(log, "epoch {:>3}/{}  loss {:.4f}  {}  {:.0f} {}/s  {:.0f} s{}\n", epoch, loop.epochs,
               s.mean_loss, line, s.steps * loop.batch * plan.units_per_sample / std::max(s.seconds, 1e-9),
               plan.unit, s.total_seconds, s.out_of_time ? "  (time limit)" : "");
    std::fflush(log);
    if (s.out_of_time) break;
  }
  return results;
}

}  // namespace kiln
