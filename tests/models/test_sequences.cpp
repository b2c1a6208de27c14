// The sequence models of models/sequence_tiny.hpp (every cell: rnn, lstm, gru; fed by
// embedding, one_hot or a real-valued sequence; stacked; many-to-many and many-to-one),
// through their generated CPU entries, against the double references
// (tests/reference/recurrent.hpp, checked against torch.nn.RNN/LSTM/GRU): the forward
// output per element, the loss, every parameter's gradient and the input's gradient
// against central differences of the reference loss, and a train_step with gradient
// clipping against the clipped SGD rule.
#include "reference/gradient.hpp"
#include "reference/model.hpp"
#include "models/support.hpp"

#include <random>
#include <tuple>

namespace {
using namespace kiln;
using modeltest::batch_tensor;
using modeltest::check_parameter_gradients;
using modeltest::scaled_error;

struct Case {
  std::vector<float> input;
  std::vector<int32_t> labels;
};

Case make_case(const ModelView& view, int n, std::mt19937& rng) {
  const Shape in = view.input_shape(), out = view.output_shape();
  const int vocabulary = view.nodes[0].vocabulary;
  Case c;
  c.input.resize(std::size_t(n) * in.elements());
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : c.input) v = vocabulary > 0 ? float(std::uniform_int_distribution<int>(0, vocabulary - 1)(rng)) : u(rng);
  const int classes = out.is_sequence() ? out[1] : out[0];
  c.labels.resize(std::size_t(n) * (out.is_sequence() ? out[0] : 1));
  for (int32_t& l : c.labels) l = std::uniform_int_distribution<int>(0, classes - 1)(rng);
  return c;
}

}  // namespace

TEST_CASE("sequence models match the double reference and finite differences", "[models][sequences]") {
  for (const char* name : {"tiny_lstm", "tiny_rnn", "tiny_gru"}) {
    const RegisteredModel& model = find_model(name);
    const ModelView& view = model.view;
    const Network net(model, "cpu");
    Parameters params(view);
    params.initialize(3);
    std::vector<double> p(params.values().begin(), params.values().end());
    std::mt19937 rng(7);
    const bool tokens = view.nodes[0].vocabulary > 0;
    for (const int n : {1, 3, 17}) {
      INFO(name << ", batch " << n);
      const Case c = make_case(view, n, rng);
      const std::vector<double> x(c.input.begin(), c.input.end());
      const std::vector<int> labels(c.labels.begin(), c.labels.end());
      auto evaluate = [&](const std::vector<double>& params_, const std::vector<double>& input) {
        return reference::evaluate(view, params_, batch_tensor(input, n, view.input_shape()), labels);
      };
      const reference::ModelValues want = evaluate(p, x);

      std::vector<float> out(std::size_t(n) * view.output_shape().elements(), NAN);
      net.forward(params.data(), params.buffers(), c.input.data(), n, out.data());
      CHECK(scaled_error(out, want.nodes[view.output_node].data, 1.0) < 1e-5);

      std::vector<float> grad(params.size(), NAN), grad_in(c.input.size(), NAN);
      const float loss = net.gradients(params.data(), params.buffers(), c.input.data(),
                                       c.labels.data(), n, 0, grad.data(), grad_in.data());
      CHECK(loss == Approx(want.loss).epsilon(1e-5));
      const std::vector<double> numeric = reference::numerical_gradient(
          [&](const std::vector<double>& q) { return evaluate(q, x).loss; }, p);
      check_parameter_gradients(view, grad, numeric);
      if (tokens) {  // ids have no gradient
        CHECK(std::all_of(grad_in.begin(), grad_in.end(), [](float v) { return v == 0.0f; }));
      } else {
        const std::vector<double> numeric_in = reference::numerical_gradient(
            [&](const std::vector<double>& q) { return evaluate(p, q).loss; }, x);
        CHECK(scaled_error(grad_in, numeric_in) < 1e-4);
      }

      // One SGD step clipped to a norm below the gradient's: p - lr min(1, c / |g|) g.
      const std::vector<double> g(grad.begin(), grad.end());
      double norm = 0;
      for (double v : g) norm += v * v;
      norm = std::sqrt(norm);
      for (const float clip : {float(norm / 3), float(norm * 3)}) {
        HyperParameters h = defaults_for(Optimizer::sgd, 0.5f);
        h.clip_norm = clip;
        Parameters stepped = params;
        std::vector<float> m(params.size()), v(params.size());
        const float step_loss = net.train_step(stepped.data(), m.data(), v.data(), stepped.buffers(),
                                               c.input.data(), c.labels.data(), n, 0, h);
        CHECK(step_loss == Approx(want.loss).epsilon(1e-5));
        const double scale = reference::clipped_scale(g, clip);
        std::vector<double> expected(p.size());
        for (std::size_t k = 0; k < p.size(); ++k) expected[k] = p[k] - 0.5 * scale * g[k];
        CHECK(scaled_error({stepped.values().begin(), stepped.values().end()}, expected, 1.0) < 1e-6);
      }
    }
  }
}

TEST_CASE("windows read with the recurrent state carried are one long sequence (truncated BPTT)", "[models][sequences]") {
  // tiny_stack reads 4 steps, tiny_stack_long the same layers over 8 (models/sequence_tiny.hpp).
  const RegisteredModel& window = find_model("tiny_stack");
  const RegisteredModel& whole = find_model("tiny_stack_long");
  const ModelView& view = window.view;
  REQUIRE(view.parameter_count == whole.view.parameter_count);
  const Network short_net(window, "cpu"), long_net(whole, "cpu");
  const int S = int(short_net.carried_size()), T = 4, K = 7;
  REQUIRE(S == 2 * 4 + 3 + 5);
  REQUIRE(long_net.carried_size() == S);
  Parameters params(view);
  params.initialize(5);
  const std::vector<double> p(params.values().begin(), params.values().end());
  std::mt19937 rng(11);
  for (const int n : {3, 17}) {  // 17: the time loops run in two parts on two threads
    INFO("batch " << n);
    // Ids of 8 steps per sample, and the two windows of 4 they make.
    std::vector<float> ids(std::size_t(n) * 2 * T), first(std::size_t(n) * T), second(first.size());
    for (float& v : ids) v = float(std::uniform_int_distribution<int>(0, K - 1)(rng));
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < T; ++t) {
        first[std::size_t(s) * T + t] = ids[std::size_t(s) * 2 * T + t];
        second[std::size_t(s) * T + t] = ids[std::size_t(s) * 2 * T + T + t];
      }
    std::vector<float> long_out(std::size_t(n) * 2 * T * K, NAN), long_state(std::size_t(n) * S, NAN);
    long_net.forward(params.data(), params.buffers(), ids.data(), n, long_out.data(), nullptr,
                     {nullptr, long_state.data()});
    std::vector<float> out1(std::size_t(n) * T * K, NAN), out2(out1.size(), NAN);
    std::vector<float> state1(std::size_t(n) * S, NAN), state2(state1.size(), NAN);
    short_net.forward(params.data(), params.buffers(), first.data(), n, out1.data(), nullptr, {nullptr, state1.data()});
    short_net.forward(params.data(), params.buffers(), second.data(), n, out2.data(), nullptr,
                      {state1.data(), state2.data()});
    std::vector<float> joined;
    for (int s = 0; s < n; ++s)
      for (const auto* part : {&out1, &out2})
        joined.insert(joined.end(), part->begin() + std::ptrdiff_t(s) * T * K, part->begin() + std::ptrdiff_t(s + 1) * T * K);
    const std::vector<double> long_want(long_out.begin(), long_out.end());
    CHECK(scaled_error(joined, long_want, 1.0) < 1e-5);
    CHECK(scaled_error(state2, {long_state.begin(), long_state.end()}, 1.0) < 1e-5);

    // The long sequence against the double reference; the state's h rows against each
    // layer's h at the last step (lstm rows 0-3 with c in 4-7, gru 8-10, rnn 11-15).
    std::vector<int> long_labels(std::size_t(n) * 2 * T, 0);
    const reference::ModelValues want = reference::evaluate(
        whole.view, p, batch_tensor({ids.begin(), ids.end()}, n, whole.view.input_shape()), long_labels);
    CHECK(scaled_error(long_out, want.nodes[whole.view.output_node].data, 1.0) < 1e-5);
    for (const auto [node, row, H] : {std::tuple{2, 0, 4}, std::tuple{3, 8, 3}, std::tuple{4, 11, 5}}) {
      std::vector<float> got;
      std::vector<double> last;
      for (int s = 0; s < n; ++s)
        for (int j = 0; j < H; ++j) {
          got.push_back(long_state[std::size_t(s) * S + row + j]);
          last.push_back(want.nodes[node].data[(std::size_t(s) * 2 * T + 2 * T - 1) * H + j]);
        }
      CHECK(scaled_error(got, last, 1.0) < 1e-5);
    }

    // A window from a given state: forward, the loss and every gradient against the
    // reference from that state (nothing flows into it), and a train_step that returns
    // the state after the window.
    reference::Tensor start({n, S});
    std::vector<float> start_f(std::size_t(n) * S);
    for (std::size_t k = 0; k < start_f.size(); ++k)
      start.data[k] = start_f[k] = std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng);
    std::vector<int32_t> labels(std::size_t(n) * T);
    for (int32_t& l : labels) l = std::uniform_int_distribution<int>(0, K - 1)(rng);
    const std::vector<int> ref_labels(labels.begin(), labels.end());
    const reference::Tensor x = batch_tensor({second.begin(), second.end()}, n, view.input_shape());
    auto evaluate = [&](const std::vector<double>& q) {
      return reference::evaluate(view, q, {}, x, ref_labels, reference::Mode{.carried = &start});
    };
    const reference::ModelValues from_start = evaluate(p);
    std::vector<float> out(out1.size(), NAN), after(state1.size(), NAN);
    short_net.forward(params.data(), params.buffers(), second.data(), n, out.data(), nullptr,
                      {start_f.data(), after.data()});
    CHECK(scaled_error(out, from_start.nodes[view.output_node].data, 1.0) < 1e-5);
    std::vector<float> grad(params.size(), NAN), grad_in(second.size(), NAN);
    const float loss = short_net.gradients(params.data(), params.buffers(), second.data(), labels.data(), n, 0,
                                           grad.data(), grad_in.data(), nullptr, start_f.data());
    CHECK(loss == Approx(from_start.loss).epsilon(1e-5));
    const std::vector<double> numeric = reference::numerical_gradient([&](const std::vector<double>& q) {
      return evaluate(q).loss;
    }, p);
    check_parameter_gradients(view, grad, numeric);
    Parameters stepped = params;
    std::vector<float> m(params.size()), v(params.size()), stepped_state(state1.size(), NAN);
    const float step_loss = short_net.train_step(stepped.data(), m.data(), v.data(), stepped.buffers(), second.data(),
                                                 labels.data(), n, 0, defaults_for(Optimizer::sgd, 0.5f), nullptr,
                                                 {start_f.data(), stepped_state.data()});
    CHECK(step_loss == Approx(from_start.loss).epsilon(1e-5));
    CHECK(scaled_error(stepped_state, {after.begin(), after.end()}, 1.0) < 1e-6);
    std::vector<double> expected(p.size());
    for (std::size_t k = 0; k < p.size(); ++k) expected[k] = p[k] - 0.5 * double(grad[k]);
    CHECK(scaled_error({stepped.values().begin(), stepped.values().end()}, expected, 1.0) < 1e-6);
  }
}
