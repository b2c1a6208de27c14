// The CIFAR-sized ResNet (models/resnet.hpp) in training mode: its gradients against
// central finite differences of its own loss, and a short run of its recipe (SGD with
// momentum, batch norm) on shapes10 that must learn.
//
// Finite differences. With batch statistics, the loss `gradients` returns is the
// training-mode loss (forward cannot give it: it is inference mode), so the differences
// are taken of that loss, in float32. One probe per parameter tensor and one for the
// input: the directional derivative along a random +-1 direction over the whole tensor,
//   fd = (L(theta + h d) - L(theta - h d)) / 2h   against   g . d,
// which sums every element's gradient, so a wrong element of any size shows, and the
// signal stands far above the float32 noise of L (about 1e-6).
// Steps and inputs. At initialization this net's training-mode loss is rough at small
// scales, and so no step gives a tight agreement. Measured on kiln's initial weights
// (seed 3) with 4 shapes10 images: along one direction of conv1.weight PyTorch's own
// float64 differences gave 0.911, 0.784, 0.677, 0.750 and 0.747 at h = 1e-3 ... 1e-7
// against its analytic -0.755, and kiln's float32 gradients differed from PyTorch's
// float64 ones by 1-6 % (tests/cli/torch_zoo.py, on other weights, agrees to 3e-6).
// shapes10 images are the worst case (a shape's pixels are exactly equal, so many ReLU
// inputs cross 0 together); on uniform noise in [-1, 1], batch 16, differences along the
// input stayed within 3 % of g . d for every h from 1e-2 to 3e-5. So: noise inputs,
// batch 16, and a probe passes when
//   |fd - g.d| <= 5e-2 |g.d| + 2e-6 / h   at h = 1e-4 or 3e-5,
// and the relative 2-norm of (fd - g.d) over all probes must be under 5e-2 (measured:
// 2.2e-2 on 2026-11-28). A wrong
// term (a lost residual path, a transposed layout) is off by far more.
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/schedule.hpp"
#include "runtime/shapes.hpp"
#include "runtime/trainer.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

const char* const kModel = "resnet20_cifar";

}  // namespace

TEST_CASE("ResNet-20 (CIFAR): every gradient agrees with finite differences of its loss",
          "[models][resnet]") {
  const kiln::RegisteredModel& model = kiln::find_model(kModel);
  const kiln::Network net(model, "cpu");
  const int n = 16;
  kiln::SplitMix64 rng(5);
  std::vector<float> input(std::size_t(n) * net.sample_size());
  for (float& v : input) v = rng.uniform(-1.0f, 1.0f);
  std::vector<int32_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i % 10;
  kiln::Parameters params(model.view);
  params.initialize(3);
  const std::size_t P = params.size();
  std::vector<float> grad(P, NAN), grad_input(input.size(), NAN);
  const float loss = net.gradients(params.data(), params.buffers(), input.data(),
                                   labels.data(), n, 0, grad.data(), grad_input.data());
  REQUIRE(std::isfinite(loss));
  for (float g : grad) REQUIRE(std::isfinite(g));
  for (float g : grad_input) REQUIRE(std::isfinite(g));

  std::vector<float> scratch(P), scratch_input(input.size());
  auto loss_at = [&](const std::vector<float>& p, const std::vector<float>& x) {
    return double(net.gradients(p.data(), params.buffers(), x.data(), labels.data(), n,
                                0, scratch.data(), scratch_input.data()));
  };
  double diff2 = 0, gd2 = 0;  // over all probes, each at the step it passed with
  // Checks g . d against fd for values[first, first + count) moved along a +-1 direction,
  // and adds the difference at the step that passed (or the last one tried) to diff2.
  auto probe = [&](const std::string& what, bool on_input, std::size_t first, std::size_t count) {
    const std::vector<float>& g = on_input ? grad_input : grad;
    std::vector<float> d(count);
    double gd = 0;
    for (std::size_t k = 0; k < count; ++k) {
      d[k] = rng.below(2) ? 1.0f : -1.0f;
      gd += double(g[first + k]) * d[k];
    }
    std::string tried;
    bool ok = false;
    double fd = 0;
    for (double h : {1e-4, 3e-5}) {
      std::vector<float> up_p(params.values().begin(), params.values().end()), down_p = up_p;
      std::vector<float> up_x = input, down_x = input;
      std::vector<float>& up = on_input ? up_x : up_p;
      std::vector<float>& down = on_input ? down_x : down_p;
      for (std::size_t k = 0; k < count; ++k) {
        up[first + k] += float(h) * d[k];
        down[first + k] -= float(h) * d[k];
      }
      fd = (loss_at(up_p, up_x) - loss_at(down_p, down_x)) / (2 * h);
      tried += " h=" + std::to_string(h) + ": " + std::to_string(fd);
      if ((ok = std::abs(fd - gd) <= 5e-2 * std::abs(gd) + 2e-6 / h)) break;
    }
    diff2 += (fd - gd) * (fd - gd);
    gd2 += gd * gd;
    INFO(what << ": g.d " << gd << ", finite differences" << tried);
    CHECK(ok);
  };
  for (const kiln::Parameter& p : model.view.parameters) {
    // Finite differences are taken on the stored order; a direction is a direction.
    probe(std::string(p.name.view()), false, std::size_t(p.offset), std::size_t(p.size()));
  }
  probe("input", true, 0, input.size());
  CHECK(std::sqrt(diff2 / gd2) < 5e-2);
}

TEST_CASE("ResNet-20 (CIFAR) learns shapes10 with SGD, momentum and batch norm",
          "[models][resnet]") {
  const kiln::RegisteredModel& model = kiln::find_model(kModel);
  REQUIRE(model.recipe.dataset == "shapes10");
  const kiln::Network net(model, "cpu");
  // A short version of the recipe: 2 epochs of 2,000 images, 1,000 held out.
  const kiln::ImageSet all = kiln::shapes::make_shapes10(3000, 21);
  const auto [train, held_out] = kiln::split(all, 2000, 0);
  kiln::Parameters params(model.view);
  params.initialize(0);
  kiln::StepLoop config;
  config.epochs = 2;
  config.batch = model.recipe.batch;
  config.hyper = kiln::defaults_for(kiln::parse_optimizer(model.recipe.optimizer),
                                    model.recipe.learning_rate);
  config.hyper.weight_decay = model.recipe.weight_decay;
  config.lr_schedule = kiln::parse_lr_schedule(model.recipe.lr_schedule);
  const auto results = kiln::train_classifier(net, params, train, held_out, config, 0, stderr);
  REQUIRE(results.size() == 2);
  INFO("epoch losses " << results[0].mean_loss << ", " << results[1].mean_loss
                       << "; held-out accuracy " << results[1].held_out_accuracy);
  // Measured: 2.44 then 1.54 (the first epoch starts near 3, He initialization's loss),
  // 67 % held out after the second, 2026-11-28.
  CHECK(results[1].mean_loss < std::log(10.0));  // below chance
  CHECK(results[1].mean_loss < 0.8 * results[0].mean_loss);
  CHECK(results[1].held_out_accuracy > 0.5);  // chance: 0.1
  // Every running statistic moved from its start (means 0, variances 1); the step
  // counters are ignored here.
  int unmoved = 0, statistics = 0;
  for (const kiln::Parameter& b : model.view.buffers) {
    if (b.role != kiln::ParameterRole::running_mean && b.role != kiln::ParameterRole::running_var)
      continue;
    const float start = b.role == kiln::ParameterRole::running_mean ? 0.0f : 1.0f;
    for (long long k = 0; k < b.size(); ++k, ++statistics)
      unmoved += params.buffer_values()[std::size_t(b.offset + k)] == start;
  }
  CHECK(statistics > 1000);
  CHECK(unmoved == 0);
}
