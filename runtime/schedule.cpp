#include "runtime/schedule.hpp"

#include "runtime/error.hpp"

#include <cmath>

namespace kiln {

LrSchedule parse_lr_schedule(std::string_view name) {
  if (name == "constant") return LrSchedule::constant;
  if (name == "step") return LrSchedule::step;
  if (name == "exponential") return LrSchedule::exponential;
  if (name == "inverse_time") return LrSchedule::inverse_time;
  if (name == "cosine") return LrSchedule::cosine;
  fail("--lr-schedule: unknown schedule '{}' (known: constant, step, exponential, inverse_time, cosine)",
       name);
}

float learning_rate_at(LrSchedule s, float lr, long long t, long long total) {
  const double f = total > 0 ? double(t) / double(total) : 0.0;
  switch (s) {
    case LrSchedule::constant: return lr;
    case LrSchedule::step: return lr * (f < 0.5 ? 1.0f : f < 0.75 ? 0.1f : 0.01f);
    case LrSchedule::exponential: return float(lr * std::pow(0.01, f));
    case LrSchedule::inverse_time: return float(lr / (1.0 + 9.0 * f));
    case LrSchedule::cosine: return float(lr * 0.5 * (1.0 + std::cos(3.141592653589793 * f)));
  }
  return lr;
}

}  // namespace kiln
