// kiln forward / gradients: run a model's generated entries on tensors from
// safetensors files, so that kiln can be checked against another framework.
//   inputs:  'input' float [N, C, H, W] (or [N, F]; sequences [N, T, F]; token ids [N, T]
//            of any numeric type, or [N, T, 1]); 'labels' int64 or int32 [N] ([N, T] for
//            per-step logits, [N, H, W] per pixel); for a target_loss, 'targets' float
//            [N, 2, output shape] (target values, then weights >= 0) instead; for a
//            model with region layers, 'rois' float [N, R, 4] (x0, y0, x1, y1 in pixels);
//            for a captioner (a decoder), 'words' [N, T] token ids (the words so far); for
//            a model with rnn, lstm or gru layers, optionally 'state' float [N, S], the
//            recurrent state the sequence starts from (carried_state, dsl/layers.hpp:
//            each layer's h, and lstm's c, in node order; zeros without)
//   forward writes 'output' [N, K] (and, for models with an attention entry, 'attention':
//   [N, T, L] weights over a decoder's grid, or a spatial transformer's images; for a
//   model with recurrent layers, 'state' [N, S] after the last step); gradients writes
//   'loss' [], 'grad.<parameter>' in PyTorch's layout and 'grad.input' [N, C, H, W].
#include "runtime/error.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "tools/commands.hpp"
#include "tools/flags.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

namespace kiln::cli {

namespace {

struct Batch {
  int count = 0;
  std::vector<float> input;
  std::vector<int32_t> labels;
  std::vector<float> targets;  // target_loss models
  std::vector<float> side;     // models with region layers (rois) or a decoder (words)
  std::vector<float> state;    // recurrent models: the state the sequence starts from (or none: zeros)
  const float* side_input() const { return side.empty() ? nullptr : side.data(); }
  const float* state_input() const { return state.empty() ? nullptr : state.data(); }
  BatchLabels truth() const { return targets.empty() ? BatchLabels(labels.data()) : BatchLabels(targets.data()); }
};

std::vector<int64_t> batch_shape(int n, Shape s) {
  std::vector<int64_t> shape{n};
  for (int k = 0; k < s.rank; ++k) shape.push_back(s[k]);
  return shape;
}

// A tensor's values as floats, each finite; with a vocabulary V > 0, token ids: integers
// in [0, V), of any numeric type.
std::vector<float> read_values(const Tensor& t, const char* name, const std::string& path, const ModelView& model,
                               int vocabulary) {
  std::vector<float> values;
  if (vocabulary > 0 && (t.dtype == DType::I64 || t.dtype == DType::I32)) {
    const std::vector<int32_t> ids = tensor_int32s(t, name, path);
    values.assign(ids.begin(), ids.end());
  } else {
    values = tensor_floats(t, name, path);
  }
  for (std::size_t k = 0; k < values.size(); ++k) {
    const float v = values[k];
    if (!std::isfinite(v)) fail("{}: tensor '{}' holds a non-finite value at element {}", path, name, k);
    if (vocabulary > 0 && (v != std::floor(v) || v < 0 || v >= float(vocabulary)))
      fail("{}: tensor '{}' holds {} at element {}; {} reads token ids 0..{}", path, name, v, k, model.name,
           vocabulary - 1);
  }
  return values;
}

Batch read_batch(const std::string& path, const ModelView& model, bool with_labels) {
  const SafetensorsFile file = load_safetensors(path);
  const Tensor& input = require(file.tensors, "input", path);
  const Shape s = model.input_shape();
  std::vector<int64_t> expected = batch_shape(input.shape.empty() ? 0 : int(input.shape[0]), s);
  const int vocabulary = model.nodes[0].vocabulary;
  if (vocabulary > 0 && input.shape.size() == 2) expected.pop_back();  // ids [N, T] as PyTorch holds them
  if (input.shape.empty() || input.shape[0] < 1 || input.shape[0] > (1 << 24))
    fail("{}: tensor 'input' has shape [{}], expected [N, {}] with N >= 1", path,
         fmt::join(input.shape, ", "), fmt::join(expected.begin() + 1, expected.end(), ", "));
  require_shape(input, expected, "input", path);
  Batch b;
  b.count = int(input.shape[0]);
  b.input = read_values(input, "input", path, model, vocabulary);
  // What the batch carries beside the input: rois [N, R, 4], or a decoder's words [N, T]
  // (or [N, T, 1]).
  if (const SideInput side = side_input(model); side.kind != SideKind::none) {
    const std::string name(side.name());
    const Tensor& t = require(file.tensors, name, path);
    std::vector<int64_t> shape{b.count, side.rows, side.columns};
    if (side.kind == SideKind::words && t.shape.size() == 2) shape.pop_back();
    require_shape(t, shape, name, path);
    b.side = read_values(t, name.c_str(), path, model, side.vocabulary);
  }
  if (const int S = carried_state(model); S > 0 && file.tensors.count("state")) {
    const Tensor& t = file.tensors.at("state");
    require_shape(t, std::vector<int64_t>{b.count, S}, "state", path);
    b.state = read_values(t, "state", path, model, 0);
  }
  if (with_labels && uses_targets(model)) {
    const Tensor& targets = require(file.tensors, "targets", path);
    require_shape(targets, batch_shape(b.count, target_shape(model.output_shape())), "targets", path);
    b.targets = tensor_floats(targets, "targets", path);
    const std::size_t plane = b.targets.size() / (2 * std::size_t(b.count));
    for (std::size_t k = 0; k < b.targets.size(); ++k) {
      if (!std::isfinite(b.targets[k])) fail("{}: tensor 'targets' holds a non-finite value at element {}", path, k);
      if ((k / plane) % 2 == 1 && b.targets[k] < 0)
        fail("{}: tensor 'targets' holds the negative weight {} at element {}", path, b.targets[k], k);
    }
  } else if (with_labels) {
    const Tensor& labels = require(file.tensors, "labels", path);
    const Shape out = model.output_shape();
    std::vector<int64_t> per_sample{b.count};
    const Shape s = label_shape(out);
    for (int k = 0; k < s.rank; ++k) per_sample.push_back(s[k]);
    require_shape(labels, per_sample, "labels", path);
    b.labels = tensor_int32s(labels, "labels", path);
    const int classes = class_count(out);
    for (std::size_t k = 0; k < b.labels.size(); ++k)
      if (b.labels[k] < 0 || b.labels[k] >= classes)
        fail("{}: tensor 'labels' holds {} at index {}; {} has classes 0..{}", path, b.labels[k], k,
             model.name, classes - 1);
  }
  return b;
}

struct Loaded {
  const RegisteredModel& model;
  Parameters params;
  Network net;
  Batch batch;
  std::string out;
  uint32_t seed = 0;  // gradients: dropout's draw
};

Loaded load(const std::vector<std::string>& args, bool with_labels) {
  const Flags flags(args, {"weights", "inputs", "out", "target", "seed"}, 1);
  const RegisteredModel& model = model_argument(flags);
  Parameters params(model.view);
  params.load(flags.required("weights"));
  Network net(model, flags.text("target", "cpu"));
  Batch batch = read_batch(flags.required("inputs"), model.view, with_labels);
  return {model, std::move(params), std::move(net), std::move(batch), flags.required("out"),
          uint32_t(flags.non_negative_int("seed", 0))};
}

}  // namespace

int forward(const std::vector<std::string>& args) {
  Loaded l = load(args, false);
  std::vector<float> output(std::size_t(l.batch.count) * l.net.output_size());
  std::vector<float> state(std::size_t(l.batch.count) * l.net.carried_size());
  l.net.forward(l.params.data(), l.params.buffers(), l.batch.input.data(), l.batch.count, output.data(),
                l.batch.side_input(), {l.batch.state_input(), state.empty() ? nullptr : state.data()});
  TensorMap out{{"output", f32_tensor(batch_shape(l.batch.count, l.net.view().output_shape()), output)}};
  std::string also;
  if (!state.empty()) {
    out["state"] = f32_tensor({l.batch.count, l.net.carried_size()}, state);
    also = fmt::format(" and 'state' [{}, {}]", l.batch.count, l.net.carried_size());
  }
  if (l.net.has_entry("attention")) {  // where the model looks, beside what it says
    const Shape s = attention_shape(l.net.view());
    std::vector<float> attention(std::size_t(l.batch.count) * s.elements());
    l.net.attention(l.params.data(), l.params.buffers(), l.batch.input.data(), l.batch.count, attention.data(),
                    l.batch.side_input(), l.batch.state_input());
    out["attention"] = f32_tensor(batch_shape(l.batch.count, s), attention);
    also += fmt::format(" and 'attention' [{}]", fmt::join(batch_shape(l.batch.count, s), ", "));
  }
  save_safetensors(l.out, out);
  fmt::print("wrote 'output' [{}]{} to {}\n", fmt::join(batch_shape(l.batch.count, l.net.view().output_shape()), ", "),
             also, l.out);
  return 0;
}

int gradients(const std::vector<std::string>& args) {
  Loaded l = load(args, true);
  std::vector<float> grad_params(l.params.size()), grad_input(l.batch.input.size());
  const float loss = l.net.gradients(l.params.data(), l.params.buffers(), l.batch.input.data(),
                                     l.batch.truth(), l.batch.count, l.seed,
                                     grad_params.data(), grad_input.data(), l.batch.side_input(),
                                     l.batch.state_input());
  TensorMap out;
  out["loss"] = f32_tensor({}, std::span(&loss, 1));
  out["grad.input"] = f32_tensor(batch_shape(l.batch.count, l.net.view().input_shape()), grad_input);
  out.merge(l.params.tensors(grad_params, "grad."));
  save_safetensors(l.out, out);
  fmt::print("loss {:.6f}; wrote 'loss', 'grad.input' and {} parameter gradients to {}\n", loss,
             l.net.view().parameters.size(), l.out);
  return 0;
}

}  // namespace kiln::cli
