// The autoscheduler switch: lenet5_mullapudi is LeNet-5 built with
// kiln_add_model(... SCHEDULER Mullapudi2016). Its three entries must agree with the
// hand-scheduled lenet5 on the same inputs: a schedule changes speed, never numbers
// (beyond float summation order).
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <catch2/catch.hpp>

#include "models/support.hpp"

#include <cmath>
#include <vector>

using kiln::modeltest::max_relative_difference;

TEST_CASE("an autoscheduled build computes what the hand schedule computes", "[models]") {
  const kiln::Network hand(kiln::find_model("lenet5"), "cpu");
  const kiln::Network autoscheduled(kiln::find_model("lenet5_mullapudi"), "cpu");
  const int n = 21;
  kiln::Parameters params(hand.view());
  params.initialize(3);
  std::vector<float> images(std::size_t(n) * 784);
  std::vector<int32_t> labels(n);
  for (std::size_t k = 0; k < images.size(); ++k) images[k] = float((k * 104729) % 997) / 997.0f;
  for (int k = 0; k < n; ++k) labels[k] = (k * 7) % 10;

  std::vector<float> out_a(n * 10, NAN), out_b(n * 10, NAN);
  hand.forward(params.data(), params.buffers(), images.data(), n, out_a.data());
  autoscheduled.forward(params.data(), params.buffers(), images.data(), n, out_b.data());
  CHECK(max_relative_difference(out_b, out_a) < 1e-5);

  const std::size_t P = params.size();
  std::vector<float> gp_a(P, NAN), gp_b(P, NAN), gi_a(images.size(), NAN), gi_b(images.size(), NAN);
  const float loss_a = hand.gradients(params.data(), params.buffers(), images.data(), labels.data(), n, 0, gp_a.data(), gi_a.data());
  const float loss_b = autoscheduled.gradients(params.data(), params.buffers(), images.data(), labels.data(), n, 0, gp_b.data(), gi_b.data());
  CHECK(loss_b == Approx(loss_a).epsilon(1e-5));
  CHECK(max_relative_difference(gp_b, gp_a) < 1e-4);
  CHECK(max_relative_difference(gi_b, gi_a) < 1e-4);

  kiln::Parameters p_a = params, p_b = params;
  std::vector<float> m_a(P), v_a(P), m_b(P), v_b(P);
  // Momentum, not Adam: Adam's first step moves every weight by about lr * sign(g), so a
  // gradient that is zero up to summation order could flip and differ by 2 lr.
  const kiln::HyperParameters h = kiln::defaults_for(kiln::Optimizer::momentum, 1e-2f);
  hand.train_step(p_a.data(), m_a.data(), v_a.data(), p_a.buffers(), images.data(), labels.data(), n, 0, h);
  autoscheduled.train_step(p_b.data(), m_b.data(), v_b.data(), p_b.buffers(), images.data(), labels.data(), n, 0, h);
  CHECK(max_relative_difference({p_b.values().begin(), p_b.values().end()},
                                {p_a.values().begin(), p_a.values().end()}) < 1e-5);
}
