// Learning-rate schedules over a run of `total` steps (step counts from 0):
//   constant      lr
//   step          lr, divided by 10 at 50 % and again at 75 % of the run
//   exponential   lr * 0.01^(t / total): down to 1 % by the end
//   inverse_time  lr / (1 + 9 t / total): down to 10 % by the end (1/t decay)
//   cosine        lr * (1 + cos(pi t / total)) / 2
#pragma once
#include <string_view>

namespace kiln {

enum class LrSchedule { constant, step, exponential, inverse_time, cosine };

// kiln::Error "--lr-schedule: unknown schedule 'x' (known: ...)" for other names.
LrSchedule parse_lr_schedule(std::string_view name);
float learning_rate_at(LrSchedule s, float lr, long long t, long long total);

}  // namespace kiln
