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

namespace {
using namespace kiln;

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

reference::Tensor batch_tensor(const std::vector<double>& data, int n, Shape s) {
  std::vector<int> shape{n};
  for (int k = 0; k < s.rank; ++k) shape.push_back(s[k]);
  reference::Tensor t(shape);
  t.data = data;
  return t;
}

// max_k |got_k - want_k| / max(max_k |want_k|, floor); infinite for a non-finite value.
double scaled_error(const std::vector<float>& got, const std::vector<double>& want, double floor = 1e-3) {
  double err = 0, scale = floor;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (std::size_t k = 0; k < got.size(); ++k) {
    if (!std::isfinite(got[k])) return INFINITY;
    err = std::max(err, std::abs(got[k] - want[k]));
  }
  return err / scale;
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
      for (const Parameter& t : view.parameters) {
        INFO(std::string(t.name.view()));
        const auto first = std::ptrdiff_t(t.offset), last = first + std::ptrdiff_t(t.size());
        CHECK(scaled_error({grad.begin() + first, grad.begin() + last},
                           {numeric.begin() + first, numeric.begin() + last}) < 1e-4);
      }
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
