// The loop every trainer shares: draw a batch, call train_step (forward, loss, backward
// and the optimizer in one generated call) with the learning rate its schedule gives,
// stop on a non-finite loss, redraw a progress line, and report each epoch. What a batch
// holds and how an epoch is judged are the caller's.
#pragma once
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/random.hpp"
#include "runtime/schedule.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace kiln {

// How to train, as `kiln train` reads it from its flags and the model's recipe.
struct StepLoop {
  int epochs = 10;
  int batch = 32;
  HyperParameters hyper;  // learning_rate is the schedule's peak
  LrSchedule lr_schedule = LrSchedule::cosine;
  uint64_t seed = 0;      // the batches' draws and each step's dropout seed
  double minutes = 0;     // > 0: stop once this much wall time has passed (the schedule still plans `epochs`)
};

// What an epoch is, which each trainer knows: its steps, and what the progress line
// counts per second (samples times units_per_sample of `unit`).
struct EpochPlan {
  int steps = 1;
  std::string unit = "img";
  double units_per_sample = 1;
  // Truncated backpropagation through time: each step's batch continues the sequences of
  // the step before (sample s of every batch, one stream), so each step starts from the
  // recurrent state the step before ended with (Carry), zeros at each epoch's start.
  // false: every step from zeros.
  bool carry_state = false;
};

struct EpochStats {
  int epoch = 0;
  int steps = 0;           // steps run in this epoch
  double mean_loss = 0;    // over its steps
  double seconds = 0;      // training time of this epoch (evaluation not counted)
  double total_seconds = 0;  // wall time since the start, earlier evaluations included
  bool out_of_time = false;  // the time limit cut this epoch short (and ends the run)
};

// Fills a batch of `batch` samples: inputs, then int32 labels or (target_loss models)
// float targets, in the model's layouts (Network::labels_size, targets_size per sample),
// and what the model reads beside the input (Network::side_size per sample): a model
// with region layers its regions [batch, R, 4], a captioner its words so far [batch, T].
using FillBatch = std::function<void(SplitMix64& rng, float* input, int32_t* labels, float* targets, float* side)>;
// Called after each epoch that ran at least one step; its line goes to the log.
using EpochDone = std::function<std::string(const EpochStats&)>;

// Trains `params` in place (Adam's moments start at zero). kiln::Error when the loss
// stops being finite. Returns the stats of the epochs that ran.
std::vector<EpochStats> run_steps(const Network& net, Parameters& params, const StepLoop& loop,
                                  const EpochPlan& plan, const FillBatch& fill,
                                  const EpochDone& done, std::FILE* log);

}  // namespace kiln
