// The two hand CPU policies: widenet is built channels-innermost (the rule's pick for
// 64-channel convs, schedules/cpu_channels.cpp) and widenet_batch batch-innermost
// (cpu_simd.cpp). Every output element of all three entries must agree: a schedule
// changes speed, never numbers (beyond float summation order). Outputs start as NaN, so
// an element no schedule wrote fails.
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <catch2/catch.hpp>

#include "models/support.hpp"

#include <cmath>
#include <vector>

using kiln::modeltest::max_relative_difference;

TEST_CASE("the channels-innermost policy computes what the batch-innermost one does", "[models]") {
  const kiln::Network channels(kiln::find_model("widenet"), "cpu");
  const kiln::Network batch(kiln::find_model("widenet_batch"), "cpu");
  kiln::Parameters params(channels.view());
  params.initialize(5);
  const std::size_t P = params.size();
  // 1: no batch to vectorize over; 3: fewer than a vector; 17: a vector and a tail.
  for (const int n : {1, 3, 17}) {
    INFO("batch " << n);
    const std::size_t sample = std::size_t(channels.sample_size());
    std::vector<float> images(n * sample);
    std::vector<int32_t> labels(n);
    for (std::size_t k = 0; k < images.size(); ++k) images[k] = float((k * 104729) % 997) / 997.0f - 0.3f;
    for (int k = 0; k < n; ++k) labels[k] = (k * 7) % 10;

    std::vector<float> out_c(n * 10, NAN), out_b(n * 10, NAN);
    channels.forward(params.data(), params.buffers(), images.data(), n, out_c.data());
    batch.forward(params.data(), params.buffers(), images.data(), n, out_b.data());
    CHECK(max_relative_difference(out_c, out_b) < 1e-5);

    std::vector<float> gp_c(P, NAN), gp_b(P, NAN), gi_c(images.size(), NAN), gi_b(images.size(), NAN);
    const float loss_c = channels.gradients(params.data(), params.buffers(), images.data(), labels.data(), n, 0, gp_c.data(), gi_c.data());
    const float loss_b = batch.gradients(params.data(), params.buffers(), images.data(), labels.data(), n, 0, gp_b.data(), gi_b.data());
    CHECK(loss_c == Approx(loss_b).epsilon(1e-5));
    // Per parameter tensor, so that a wrong one is named even where it is small.
    for (const kiln::Parameter& p : channels.view().parameters) {
      INFO(std::string(p.name.view()));
      const auto first = std::ptrdiff_t(p.offset), last = first + std::ptrdiff_t(p.size());
      CHECK(max_relative_difference({gp_c.begin() + first, gp_c.begin() + last},
                                    {gp_b.begin() + first, gp_b.begin() + last}) < 1e-4);
    }
    CHECK(max_relative_difference(gi_c, gi_b) < 1e-4);

    kiln::Parameters p_c = params, p_b = params;
    std::vector<float> m_c(P), v_c(P), m_b(P), v_b(P);
    // Momentum, not Adam: Adam's first step moves a weight by about lr * sign(g), so a
    // gradient that is zero up to summation order could flip.
    const kiln::HyperParameters h = kiln::defaults_for(kiln::Optimizer::momentum, 1e-2f);
    const float step_c = channels.train_step(p_c.data(), m_c.data(), v_c.data(), p_c.buffers(), images.data(), labels.data(), n, 0, h);
    const float step_b = batch.train_step(p_b.data(), m_b.data(), v_b.data(), p_b.buffers(), images.data(), labels.data(), n, 0, h);
    CHECK(step_c == Approx(loss_b).epsilon(1e-5));
    CHECK(step_b == Approx(loss_b).epsilon(1e-5));
    CHECK(max_relative_difference({p_c.values().begin(), p_c.values().end()},
                                  {p_b.values().begin(), p_b.values().end()}) < 1e-5);
    CHECK(max_relative_difference(m_c, m_b) < 1e-4);
  }
}
