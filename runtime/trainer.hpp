// The classifier training loop: sample a batch, train_step (forward, loss, backward and
// the optimizer update in one generated call), repeat; evaluate on held-out data after
// each epoch; a progress line with the loss and images per second.
#pragma once
#include "runtime/mnist.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/schedule.hpp"
#include "runtime/step_loop.hpp"

#include <cstdint>
#include <cstdio>

namespace kiln {

struct EpochResult {
  int epoch = 0;
  double mean_loss = 0;
  double held_out_accuracy = 0;  // fraction in [0, 1]
  double images_per_second = 0;
};

// Trains `params` in place, an epoch being one pass over `train` in a shuffled order,
// each image shifted by up to augment_shift pixels. Fails with kiln::Error when the loss
// becomes NaN or inf. `log` gets the progress line (redrawn in place on a terminal) and
// one line per epoch.
std::vector<EpochResult> train_classifier(const Network& net, Parameters& params,
                                          const ImageSet& train, const ImageSet& held_out,
                                          const StepLoop& loop, int augment_shift, std::FILE* log);

// Fraction of `set` whose arg-max prediction equals the label.
double accuracy(const Network& net, const Parameters& params, const ImageSet& set,
                int batch = 500);

// Softmax of each row of logits [n, k], in place.
void softmax_rows(float* logits, int n, int k);

}  // namespace kiln
