// The attention ops in whole models (models/attention_tiny.hpp), through their generated
// CPU entries, against the double references (tests/reference/attention.hpp): a decoder
// whose attention_lstm attends over a conv's grid, and a spatial transformer whose
// localization reads the image. Per batch of 1, 3 and 17: the forward output and the
// attention entry per element, the loss, every parameter's gradient and the image's
// gradient against central differences of the reference loss, and one SGD step.
#include "reference/gradient.hpp"
#include "reference/model.hpp"
#include "models/support.hpp"

#include <random>

namespace {
using namespace kiln;
using modeltest::batch_tensor;
using modeltest::check_parameter_gradients;
using modeltest::scaled_error;

// The reference's attention: a decoder's weights at every step, or the resampled images.
std::vector<double> reference_attention(const ModelView& view, const std::vector<double>& params,
                                        const reference::ModelValues& values) {
  const int i = attention_node(view);
  const Node& node = view.nodes[i];
  if (node.op == Op::affine_sample) return values.nodes[i].data;
  std::vector<reference::Tensor> w;
  for (const Parameter& q : view.parameters_of(i)) w.push_back(reference::parameter(q, params));
  reference::Tensor alpha;
  reference::attention_lstm(values.nodes[node.inputs[0]], values.nodes[node.inputs[1]], w[0], w[1], w[2], w[3],
                            w[4], &alpha);
  return alpha.data;
}

}  // namespace

TEST_CASE("attention models match the double reference and finite differences", "[models][attention]") {
  for (const char* name : {"tiny_attention", "tiny_transformer"}) {
    const RegisteredModel& model = find_model(name);
    const ModelView& view = model.view;
    const Network net(model, "cpu");
    Parameters params(view);
    params.initialize(3);
    const std::vector<double> p(params.values().begin(), params.values().end());
    const SideInput side = side_input(view);
    const Shape out_shape = view.output_shape();
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (const int n : {1, 3, 17}) {
      INFO(name << ", batch " << n);
      std::vector<float> images(std::size_t(n) * view.input_shape().elements()), words(std::size_t(n) * side.rows);
      for (float& v : images) v = u(rng);
      for (float& v : words) v = float(std::uniform_int_distribution<int>(0, side.vocabulary - 1)(rng));
      std::vector<int32_t> labels(std::size_t(n) * label_shape(out_shape).elements());
      for (int32_t& l : labels) l = std::uniform_int_distribution<int>(0, class_count(out_shape) - 1)(rng);
      const float* side_data = side.kind == SideKind::words ? words.data() : nullptr;
      const reference::Tensor word_tensor = batch_tensor({words.begin(), words.end()}, n, shape(side.rows, 1));
      const std::vector<double> x(images.begin(), images.end());
      const std::vector<int> want_labels(labels.begin(), labels.end());
      auto evaluate = [&](const std::vector<double>& params_, const std::vector<double>& input) {
        return reference::evaluate(view, params_, batch_tensor(input, n, view.input_shape()), want_labels,
                                   side_data ? &word_tensor : nullptr);
      };
      const reference::ModelValues want = evaluate(p, x);

      std::vector<float> out(std::size_t(n) * out_shape.elements(), NAN);
      net.forward(params.data(), params.buffers(), images.data(), n, out.data(), side_data);
      CHECK(scaled_error(out, want.nodes[view.output_node].data, 1.0) < 1e-5);
      const std::vector<double> want_attention = reference_attention(view, p, want);
      std::vector<float> attention(want_attention.size(), NAN);
      net.attention(params.data(), params.buffers(), images.data(), n, attention.data(), side_data);
      CHECK(scaled_error(attention, want_attention, 1.0) < 1e-5);

      std::vector<float> grad(params.size(), NAN), grad_in(images.size(), NAN);
      const float loss = net.gradients(params.data(), params.buffers(), images.data(), labels.data(), n, 0,
                                       grad.data(), grad_in.data(), side_data);
      CHECK(loss == Approx(want.loss).epsilon(1e-5));
      const std::vector<double> numeric = reference::numerical_gradient(
          [&](const std::vector<double>& q) { return evaluate(q, x).loss; }, p);
      check_parameter_gradients(view, grad, numeric);
      const std::vector<double> numeric_in = reference::numerical_gradient(
          [&](const std::vector<double>& q) { return evaluate(p, q).loss; }, x);
      CHECK(scaled_error(grad_in, numeric_in) < 1e-4);

      // One plain SGD step: p - lr g.
      Parameters stepped = params;
      std::vector<float> m(params.size()), v(params.size());
      const float step_loss = net.train_step(stepped.data(), m.data(), v.data(), stepped.buffers(), images.data(),
                                             labels.data(), n, 0, defaults_for(Optimizer::sgd, 0.5f), side_data);
      CHECK(step_loss == Approx(want.loss).epsilon(1e-5));
      std::vector<double> expected(p.size());
      for (std::size_t k = 0; k < p.size(); ++k) expected[k] = p[k] - 0.5 * double(grad[k]);
      CHECK(scaled_error({stepped.values().begin(), stepped.values().end()}, expected, 1.0) < 1e-6);
    }
  }
}

TEST_CASE("the spatial transformer gives the same numbers through both image policies", "[models][attention]") {
  const Network channels(find_model("tiny_transformer"), "cpu"), batch(find_model("tiny_transformer_batch"), "cpu");
  kiln::modeltest::check_same_numbers(batch, channels);
}

TEST_CASE("a decoder without its words is a one-line error", "[models][attention]") {
  const RegisteredModel& model = find_model("tiny_attention");
  const Network net(model, "cpu");
  Parameters params(model.view);
  std::vector<float> images(model.view.input_shape().elements()), out(net.output_size());
  CHECK_THROWS_WITH(net.forward(params.data(), params.buffers(), images.data(), 1, out.data()),
                    "tiny_attention: its decoder reads 4 words per sample ('words'); none were given");
}
