// train_step against the gradients entry plus a naive double-precision update: for every
// optimizer, three fused steps must move parameters and state exactly as torch.optim's
// rules (optimizer.hpp) applied to the gradients that `gradients` returns.
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

namespace {

struct State {
  std::vector<double> p, m, v;
};

// One step of the rule, in double, from gradient g (weight decay folded in first).
void reference_step(State& s, const std::vector<float>& grad, const kiln::HyperParameters& h) {
  using kiln::Optimizer;
  const double lr = h.learning_rate, b1 = h.beta1, b2 = h.beta2, eps = h.epsilon;
  for (std::size_t j = 0; j < s.p.size(); ++j) {
    const double g = grad[j] + h.weight_decay * s.p[j];
    double& p = s.p[j];
    double& m = s.m[j];
    double& v = s.v[j];
    switch (h.optimizer) {
      case Optimizer::sgd: p -= lr * g; break;
      case Optimizer::momentum: m = b1 * m + g; p -= lr * m; break;
      case Optimizer::nesterov: m = b1 * m + g; p -= lr * (g + b1 * m); break;
      case Optimizer::adagrad: v += g * g; p -= lr * g / (std::sqrt(v) + eps); break;
      case Optimizer::rmsprop: v = b2 * v + (1 - b2) * g * g; p -= lr * g / (std::sqrt(v) + eps); break;
      case Optimizer::adam: {
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const double mh = m / (1 - std::pow(b1, h.step)), vh = v / (1 - std::pow(b2, h.step));
        p -= lr * mh / (std::sqrt(vh) + eps);
        break;
      }
    }
  }
}

double max_relative_error(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0, scale = 0;
  for (std::size_t j = 0; j < want.size(); ++j) {
    if (!std::isfinite(got[j])) return INFINITY;
    err = std::max(err, std::abs(got[j] - want[j]));
    scale = std::max(scale, std::abs(want[j]));
  }
  return scale > 0 ? err / scale : err;  // an all-zero state must stay exactly zero
}

}  // namespace

TEST_CASE("train_step applies each optimizer to the gradients of the gradients entry", "[models]") {
  const kiln::RegisteredModel& model = kiln::find_model("lenet5");
  const kiln::Network net(model, "cpu");
  const int n = 19;  // not a multiple of the vector width
  std::vector<float> images(std::size_t(n) * 784);
  std::vector<int32_t> labels(n);
  for (std::size_t k = 0; k < images.size(); ++k) images[k] = float((k * 7919) % 1000) / 1000.0f;
  for (int k = 0; k < n; ++k) labels[k] = (k * 3) % 10;

  for (int o = 0; o < 6; ++o) {
    const auto optimizer = kiln::Optimizer(o);
    DYNAMIC_SECTION(kiln::optimizer_name(optimizer)) {
      kiln::Parameters params(model.view);
      params.initialize(7);
      kiln::HyperParameters h = kiln::defaults_for(optimizer, 0.01f);
      h.weight_decay = 1e-3f;
      const std::size_t P = params.size();
      std::vector<float> m(P, 0.0f), v(P, 0.0f), grad(P), grad_input(images.size());
      State ref{{params.values().begin(), params.values().end()}, std::vector<double>(P), std::vector<double>(P)};
      for (int step = 1; step <= 3; ++step) {
        h.step = step;
        // The gradient at the current (kiln) parameters, then both updates from there.
        std::vector<float> before(params.values().begin(), params.values().end());
        const float loss_g = net.gradients(params.data(), params.buffers(), images.data(), labels.data(), n, 0,
                                           grad.data(), grad_input.data());
        ref.p.assign(before.begin(), before.end());
        reference_step(ref, grad, h);
        std::fill(grad.begin(), grad.end(), NAN);
        const float loss_t = net.train_step(params.data(), m.data(), v.data(), params.buffers(),
                                            images.data(), labels.data(), n, 0, h);
        CHECK(loss_t == Approx(loss_g).epsilon(1e-5));
        INFO("step " << step);
        CHECK(max_relative_error({params.values().begin(), params.values().end()}, ref.p) < 1e-5);
        CHECK(max_relative_error(m, ref.m) < 1e-4);
        CHECK(max_relative_error(v, ref.v) < 1e-4);
        // Keep the reference state equal to kiln's so that errors do not compound.
        ref.m.assign(m.begin(), m.end());
        ref.v.assign(v.begin(), v.end());
      }
    }
  }
}
