// The three generated entries of a model, as Halide generators:
//   forward(params, buffers, input[, side][, state]) -> output[, state_out]    (inference)
//   gradients(params, buffers, input[, side][, state], labels, seed) -> loss, grad_params, grad_input
//   train_step(params, m, v, buffers, input[, side][, state], labels, seed, hyper-parameters,
//       clip_norm) -> loss, params', m', v', buffers'[, state_out]
//   attention(params, buffers, input[, side][, state]) -> where the model looks (models with an
//       attention_lstm or affine_sample only; inference): an attention_lstm's weights
//       over its grid's locations at every step (l, t, n), [N, T, L]; a spatial
//       transformer's resampled image (x, y, c, n), [N, C, H, W]
// gradients and train_step run the model in training mode (batch statistics, dropout
// drawn from `seed`). Buffers: params, m, v, grad_params are flat float32 [P];
// buffers is flat float32 [max(B, 1)] (batch norm's running statistics); input is the batch in
// PyTorch's NCHW memory order (Halide dims x, y, c, n), sequences (i, t, n); labels
// int32 [N] (per-step logits: [N, T], Halide dims t, n; per-pixel logits: [N, H, W],
// Halide dims x, y, n), or for a target_loss float32 targets [N, 2, output shape]
// (Halide dims x, y, c, plane, n); side, what the batch carries beside the input
// (SideInput): for models with region layers (roi_align, roi_pool) "rois", float32
// [N, R, 4] regions (x0, y0, x1, y1 in input pixels; Halide dims k, r, n), for a
// decoder "words", float32 [N, T, 1] token ids (Halide dims 0, t, n); state, for models
// with rnn, lstm or gru layers, the recurrent state the window starts from, float32
// [N, S] (carried_state, dsl/layers.hpp; Halide dims j, n), and state_out the one after
// it (truncated backpropagation through time: no gradient flows into state); output the
// model output (Halide dims k, n for logits). train_step may be called with params'
// aliasing params (and m', v' aliasing m, v, buffers' aliasing buffers): the update
// reads each element only before writing it.
//
// KILN_REGISTER_MODEL(lenet5, kiln::models::lenet5) registers lenet5_forward,
// lenet5_gradients and lenet5_train_step with Halide's generator registry.
#pragma once
#include "generators/graph.hpp"
#include "generators/optimizer.hpp"
#include "tune/knobs.hpp"
#include "schedules/schedule.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace kiln::gen {

using ViewFn = ModelView (*)();

// What an entry's inputs depend on, known when the generator class is built: the
// element type of its labels (int32 class labels, or float targets for a target_loss)
// and what the batch carries beside the input (SideInput: rows x columns per sample).
template <class LabelType, SideKind Side, int Rows, int Columns, int Carried>
struct EntryTraits {
  using Label = LabelType;
  static constexpr SideKind side = Side;
  static constexpr int side_rows = Rows, side_columns = Columns;
  static constexpr int carried = Carried;  // floats of recurrent state per sample
};
template <const auto& M>
using TraitsOf = EntryTraits<std::conditional_t<M.uses_targets(), float, int32_t>, M.side_input().kind,
                             M.side_input().rows, M.side_input().columns, M.carried_state()>;

// What the batch carries beside the input, float [N, rows, columns] (Halide dims k, r, n),
// the input right after the batch: "rois" [N, R, 4] for models with region layers,
// "words" [N, T, 1] (token ids) for a decoder's; nothing for other models.
template <class Traits, SideKind = Traits::side>
struct SideInputOf {
  Halide::GeneratorInput<Halide::Buffer<float>> side{
      std::string(SideInput{Traits::side}.name()), 3};
  Halide::Func func() const { return side; }
  void estimate(int batch) {
    side.dim(0).set_estimate(0, Traits::side_columns);
    side.dim(1).set_estimate(0, Traits::side_rows);
    side.dim(2).set_estimate(0, batch);
  }
};
template <class Traits>
struct SideInputOf<Traits, SideKind::none> {
  Halide::Func func() const { return {}; }
  void estimate(int) {}
};

// The recurrent state a window starts from, "state" float [N, S] (Halide dims j, n; S =
// carried_state, dsl/layers.hpp), after the side input; and for forward and train_step
// the state after the window, "state_out", their last output (CarriedStateOut). Nothing for
// models without rnn, lstm or gru layers.
template <class Traits, bool = (Traits::carried > 0)>
struct CarriedStateOf {
  Halide::GeneratorInput<Halide::Buffer<float>> state{"state", 2};
  Halide::Func func() const { return state; }
  void estimate(int batch) {
    state.dim(0).set_estimate(0, Traits::carried);
    state.dim(1).set_estimate(0, batch);
  }
};
template <class Traits>
struct CarriedStateOf<Traits, false> {
  Halide::Func func() const { return {}; }
  void estimate(int) {}
};
template <class Traits, bool = (Traits::carried > 0)>
struct CarriedStateOut {
  Halide::GeneratorOutput<Halide::Buffer<float>> state_out{"state_out", 2};
  void set(const Halide::Func& f, int batch) {
    state_out = f;
    state_out.dim(0).set_estimate(0, Traits::carried);
    state_out.dim(1).set_estimate(0, batch);
  }
};
template <class Traits>
struct CarriedStateOut<Traits, false> {
  void set(const Halide::Func&, int) {}
};

template <class Self, ViewFn View>
struct EntryBase : Halide::Generator<Self> {
  template <class T> using Input = typename Halide::Generator<Self>::template Input<T>;
  template <class T> using Output = typename Halide::Generator<Self>::template Output<T>;
  template <class T> using GeneratorParam = typename Halide::Generator<Self>::template GeneratorParam<T>;

  // The batch size schedules and autoschedulers plan for; any batch runs.
  GeneratorParam<int> batch_estimate{"batch_estimate", 64};
  // The hand CPU policy: "batch" (cpu_simd), "channels" (cpu_channels) or "auto" (the
  // rule in schedules/README.md).
  GeneratorParam<std::string> cpu_layout{"cpu_layout", "auto"};
  // The memory order of the forward entry's input and output images: "nchw" (PyTorch's
  // default, every entry) or "nhwc" (channels_last, forward only: for callers that hold
  // channels-last data, such as bench/conv_layer.cpp).
  GeneratorParam<std::string> io_layout{"io_layout", "nchw"};
  // GPU targets: threads per block of every kernel (schedules::GpuKnobs).
  GeneratorParam<int> gpu_threads{"gpu_threads", schedules::GpuKnobs{}.threads};
  // A tuned record (tune/knobs.hpp; cmake/kiln.cmake passes the one that matches the
  // model, entry and target) whose knobs the build applies; one that does not fit is
  // ignored with a one-line warning. tuned_hash: the record's MD5, so that an edited
  // record rebuilds the entry.
  GeneratorParam<std::string> tuned{"tuned", ""};
  GeneratorParam<std::string> tuned_hash{"tuned_hash", ""};
  // How named conv2d layers are computed, over the record's choice: "layer:direct|im2col|
  // winograd,..." (gen::conv_lowerings_of; ':' since GenGen reads '=' as the param's end).
  GeneratorParam<std::string> conv_lowerings{"conv_lowerings", ""};
  // The knobs the entry is built with.
  Knobs knobs(std::string_view entry) const {
    Knobs k;
    if (!tuned.value().empty())
      k = tune::tuned_knobs(tuned.value(), model(), entry, policy(), batch_estimate);
    for (const auto& [layer, values] : conv_lowerings_of(conv_lowerings.value(), model()))
      for (const auto& [name, value] : values) k[layer][name] = value;
    return k;
  }
  std::string_view policy() const {
    return schedules::policy_name(model(), this->get_target(),
                                  schedules::cpu_layout(cpu_layout.value(), model(), batch_estimate));
  }

  bool channels_last_io(bool forward) const {
    const std::string v = io_layout.value();
    if (v != "nchw" && v != "nhwc") throw std::invalid_argument("io_layout: '" + v + "' is neither nchw nor nhwc");
    if (v == "nhwc" && !forward) throw std::invalid_argument("io_layout nhwc: only the forward entry has it");
    return v == "nhwc";
  }

  static ModelView model() { return View(); }
  // The flat buffer of buffers has at least one element, so that every model's entries
  // take one even when it has no batch norm.
  static int buffer_floats() { return std::max<int>(1, int(model().buffer_count)); }
  void estimate_flat(Input<Halide::Buffer<float>>& b, int size) { b.dim(0).set_estimate(0, size); }
  static int input_dims() { return model().input_shape().rank + 1; }
  // labels(n), labels(t, n) for per-step logits (T, K), labels(x, y, n) per pixel;
  // a target_loss's targets (x, y, c, plane, n) or (i, plane, n).
  static Shape labels_per_sample() {
    const Shape out = model().output_shape();
    return uses_targets(model()) ? target_shape(out) : label_shape(out);
  }
  static int label_dims() { return labels_per_sample().rank + 1; }
  template <class T>
  void estimate_labels(Input<Halide::Buffer<T>>& labels) {
    const Shape s = labels_per_sample();
    for (int k = 0; k < s.rank; ++k) labels.dim(k).set_estimate(0, s[s.rank - 1 - k]);
    labels.dim(s.rank).set_estimate(0, batch_estimate);
  }
  static int output_dims() { return model().output_shape().rank + 1; }

  // A sample of shape s as Halide dims, innermost first: W, H, C (channels-last: C, W, H).
  static std::vector<int> sample_extents(Shape s, bool channels_last) {
    std::vector<int> extents;
    for (int k = s.rank - 1; k >= 0; --k) extents.push_back(s[k]);
    if (channels_last && s.is_image()) std::rotate(extents.begin(), extents.begin() + 2, extents.end());
    return extents;
  }
  // Estimates for a batch of input_shape() / output_shape().
  void estimate_batch_input(Input<Halide::Buffer<float>>& input, bool channels_last = false) {
    const std::vector<int> extents = sample_extents(model().input_shape(), channels_last);
    for (int d = 0; d < int(extents.size()); ++d) input.dim(d).set_estimate(0, extents[d]);
    input.dim(int(extents.size())).set_estimate(0, batch_estimate);
  }
  void estimate_output(Output<Halide::Buffer<float>>& out, bool channels_last = false) {
    const std::vector<int> extents = sample_extents(model().output_shape(), channels_last);
    for (int d = 0; d < int(extents.size()); ++d) out.dim(d).set_estimate(0, extents[d]);
    out.dim(int(extents.size())).set_estimate(0, batch_estimate);
  }
  void schedule_entry(LoweredModel& lowered, schedules::Entry entry,
                      const schedules::EntryOutputs& outs) {
    if (this->get_auto_schedule()) return;  // an autoscheduler plans it from the estimates
    if (this->get_target().has_gpu_feature()) {
      for (const Node& node : model().nodes) {
        if (is_recurrent(node.op))
          throw std::invalid_argument("kiln: " + std::string(model().name) +
                                      ": recurrent layers run on CPU targets only (their time loop is a host extern stage)");
        if (is_region_op(node.op) || node.op == Op::affine_sample)  // the adjoints are scatters, which want atomics there
          throw std::invalid_argument("kiln: " + std::string(model().name) + ": " +
                                      std::string(op_name(node.op)) + " runs on CPU targets only so far");
      }
      schedules::gpu_policy(model(), lowered, entry, outs, {gpu_threads});
      return;
    }
    schedules::cpu_policy(model(), lowered, entry, outs, this->get_target(),
                          schedules::cpu_layout(cpu_layout.value(), model(), batch_estimate));
  }
};

template <ViewFn View, class Traits>
struct Forward : EntryBase<Forward<View, Traits>, View> {
  using B = EntryBase<Forward<View, Traits>, View>;
  typename B::template Input<Halide::Buffer<float>> params{"params", 1};
  typename B::template Input<Halide::Buffer<float>> buffers{"buffers", 1};
  typename B::template Input<Halide::Buffer<float>> input{"input", B::input_dims()};
  SideInputOf<Traits> side;
  CarriedStateOf<Traits> state;
  typename B::template Output<Halide::Buffer<float>> output{"output", B::output_dims()};
  CarriedStateOut<Traits> state_out;

  void generate() {
    const bool channels_last = B::channels_last_io(true);
    Halide::Expr batch = input.dim(B::input_dims() - 1).extent();
    Halide::Func no_labels("no_labels");
    const Shape out = B::model().output_shape();
    if (uses_targets(B::model())) no_labels(dims().targets_of(out)) = 0.0f;
    else no_labels(dims().positions(out)) = 0;
    const Halide::Func in = channels_last ? nchw_view(input, B::model().input_shape()) : Halide::Func(input);
    LoweredModel m = lower_model(
        B::model(), {params, buffers, in, no_labels, batch, 0, side.func(), state.func(), B::knobs("forward")}, false);
    side.estimate(B::batch_estimate);
    state.estimate(B::batch_estimate);
    output = channels_last ? gen::channels_last(m.output, B::model().output_shape()) : m.output;
    state_out.set(m.state_out, B::batch_estimate);
    params.dim(0).set_estimate(0, int(B::model().parameter_count));
    B::estimate_flat(buffers, B::buffer_floats());
    B::estimate_batch_input(input, channels_last);
    B::estimate_output(output, channels_last);
    B::schedule_entry(m, schedules::Entry::forward, {{output}, {}, {}, channels_last});
  }
};

template <ViewFn View, class Traits>
struct Gradients : EntryBase<Gradients<View, Traits>, View> {
  using B = EntryBase<Gradients<View, Traits>, View>;
  typename B::template Input<Halide::Buffer<float>> params{"params", 1};
  typename B::template Input<Halide::Buffer<float>> buffers{"buffers", 1};
  typename B::template Input<Halide::Buffer<float>> input{"input", B::input_dims()};
  SideInputOf<Traits> side;
  CarriedStateOf<Traits> state;
  typename B::template Input<Halide::Buffer<typename Traits::Label>> labels{"labels", B::label_dims()};
  typename B::template Input<int> seed{"seed", 0};
  typename B::template Output<Halide::Buffer<float>> loss{"loss", 0};
  typename B::template Output<Halide::Buffer<float>> grad_params{"grad_params", 1};
  typename B::template Output<Halide::Buffer<float>> grad_input{"grad_input", B::input_dims()};

  void generate() {
    B::channels_last_io(false);  // nchw only
    Halide::Expr batch = input.dim(B::input_dims() - 1).extent();
    LoweredModel m = lower_model(
        B::model(), {params, buffers, input, labels, batch, seed, side.func(), state.func(), B::knobs("gradients")}, true);
    side.estimate(B::batch_estimate);
    state.estimate(B::batch_estimate);
    B::estimate_flat(buffers, B::buffer_floats());
    seed.set_estimate(0);
    loss = m.loss;
    grad_params = m.grad_params;
    grad_input = m.grad_input;
    const int P = int(B::model().parameter_count);
    params.dim(0).set_estimate(0, P);
    grad_params.dim(0).set_estimate(0, P);
    B::estimate_labels(labels);
    B::estimate_batch_input(input);
    const Shape s = B::model().input_shape();
    for (int d = 0; d < s.rank; ++d) grad_input.dim(d).set_estimate(0, s[s.rank - 1 - d]);
    grad_input.dim(s.rank).set_estimate(0, B::batch_estimate);
    B::schedule_entry(m, schedules::Entry::gradients, {{loss, grad_params, grad_input}, {}, {}});
  }
};

template <ViewFn View, class Traits>
struct TrainStep : EntryBase<TrainStep<View, Traits>, View> {
  using B = EntryBase<TrainStep<View, Traits>, View>;
  typename B::template Input<Halide::Buffer<float>> params{"params", 1};
  typename B::template Input<Halide::Buffer<float>> state_m{"state_m", 1};
  typename B::template Input<Halide::Buffer<float>> state_v{"state_v", 1};
  typename B::template Input<Halide::Buffer<float>> buffers{"buffers", 1};
  typename B::template Input<Halide::Buffer<float>> input{"input", B::input_dims()};
  SideInputOf<Traits> side;
  CarriedStateOf<Traits> state;
  typename B::template Input<Halide::Buffer<typename Traits::Label>> labels{"labels", B::label_dims()};
  typename B::template Input<int> seed{"seed", 0};
  typename B::template Input<int> optimizer{"optimizer", 0, 0, optimizer_kinds - 1};
  typename B::template Input<float> learning_rate{"learning_rate", 0.01f};
  typename B::template Input<float> weight_decay{"weight_decay", 0.0f};
  typename B::template Input<float> beta1{"beta1", 0.9f};
  typename B::template Input<float> beta2{"beta2", 0.999f};
  typename B::template Input<float> epsilon{"epsilon", 1e-8f};
  typename B::template Input<int> step{"step", 1};
  // Clip the gradient to this global L2 norm first (torch.nn.utils.clip_grad_norm_); 0: don't.
  typename B::template Input<float> clip_norm{"clip_norm", 0.0f};
  typename B::template Output<Halide::Buffer<float>> loss{"loss", 0};
  typename B::template Output<Halide::Func> updated{"updated", {Halide::Float(32), Halide::Float(32), Halide::Float(32)}, 1};
  typename B::template Output<Halide::Buffer<float>> buffers_out{"buffers_out", 1};
  CarriedStateOut<Traits> state_out;

  void generate() {
    B::channels_last_io(false);  // nchw only
    Halide::Expr batch = input.dim(B::input_dims() - 1).extent();
    LoweredModel m = lower_model(
        B::model(), {params, buffers, input, labels, batch, seed, side.func(), state.func(), B::knobs("train_step")}, true);
    side.estimate(B::batch_estimate);
    state.estimate(B::batch_estimate);
    loss = m.loss;
    buffers_out = m.buffers_out;
    state_out.set(m.state_out, B::batch_estimate);
    B::estimate_flat(buffers, B::buffer_floats());
    buffers_out.dim(0).set_estimate(0, B::buffer_floats());
    seed.set_estimate(0);
    HyperParameters h{optimizer, learning_rate, weight_decay, beta1, beta2, epsilon, step, clip_norm};
    const int P = int(B::model().parameter_count);
    const bool clipping = !this->get_auto_schedule();
    const OptimizerFuncs opt = optimizer_update(params, m.grad_params, state_m, state_v, h, P, clipping);
    updated = opt.updated;
    for (auto* b : {&params, &state_m, &state_v}) b->dim(0).set_estimate(0, P);
    updated.set_estimate(dims().i, 0, P);
    optimizer.set_estimate(int(OptimizerKind::adam));
    learning_rate.set_estimate(1e-3f);
    weight_decay.set_estimate(0.0f);
    beta1.set_estimate(0.9f);
    beta2.set_estimate(0.999f);
    epsilon.set_estimate(1e-8f);
    step.set_estimate(1);
    clip_norm.set_estimate(0.0f);
    B::estimate_labels(labels);
    B::estimate_batch_input(input);
    B::schedule_entry(m, schedules::Entry::train_step,
                      {{loss, buffers_out}, updated, optimizer, false,
                       clipping ? opt.norm_partial : Halide::Func(), clipping ? opt.norm : Halide::Func()});
  }
};

template <ViewFn View, class Traits>
struct Attention : EntryBase<Attention<View, Traits>, View> {
  using B = EntryBase<Attention<View, Traits>, View>;
  typename B::template Input<Halide::Buffer<float>> params{"params", 1};
  typename B::template Input<Halide::Buffer<float>> buffers{"buffers", 1};
  typename B::template Input<Halide::Buffer<float>> input{"input", B::input_dims()};
  SideInputOf<Traits> side;
  CarriedStateOf<Traits> state;
  typename B::template Output<Halide::Buffer<float>> attention{"attention", attention_shape(B::model()).rank + 1};

  void generate() {
    const ModelView model = B::model();
    const int node = attention_node(model);
    if (node < 0)
      throw std::invalid_argument("kiln: " + std::string(model.name) +
                                  " has no attention_lstm or affine_sample, so no attention entry");
    Halide::Expr batch = input.dim(B::input_dims() - 1).extent();
    Halide::Func no_labels("no_labels");
    const Shape out = model.output_shape();
    if (uses_targets(model)) no_labels(dims().targets_of(out)) = 0.0f;
    else no_labels(dims().positions(out)) = 0;
    LoweredModel m = lower_model(
        model, {params, buffers, input, no_labels, batch, 0, side.func(), state.func(), B::knobs("attention")}, false);
    state.estimate(B::batch_estimate);
    NodeFuncs& f = m.nodes[node];
    attention = model.nodes[node].op == Op::attention_lstm ? f["attention"] : f["out"];
    side.estimate(B::batch_estimate);
    params.dim(0).set_estimate(0, int(model.parameter_count));
    B::estimate_flat(buffers, B::buffer_floats());
    B::estimate_batch_input(input);
    const std::vector<int> extents = B::sample_extents(attention_shape(model), false);
    for (int d = 0; d < int(extents.size()); ++d) attention.dim(d).set_estimate(0, extents[d]);
    attention.dim(int(extents.size())).set_estimate(0, B::batch_estimate);
    B::schedule_entry(m, schedules::Entry::attention, {{attention}, {}, {}, false});
  }
};

}  // namespace kiln::gen

#define KILN_REGISTER_MODEL(NAME, MODEL)                                             \
  namespace kiln_registered_##NAME {                                                 \
  inline kiln::ModelView view() { return kiln::view_of<MODEL>(); }                   \
  using traits = kiln::gen::TraitsOf<MODEL>;                                         \
  using forward = kiln::gen::Forward<view, traits>;                                  \
  using gradients = kiln::gen::Gradients<view, traits>;                              \
  using train_step = kiln::gen::TrainStep<view, traits>;                             \
  using attention = kiln::gen::Attention<view, traits>;                              \
  }                                                                                  \
  HALIDE_REGISTER_GENERATOR(kiln_registered_##NAME::forward, NAME##_forward) \
  HALIDE_REGISTER_GENERATOR(kiln_registered_##NAME::gradients, NAME##_gradients) \
  HALIDE_REGISTER_GENERATOR(kiln_registered_##NAME::train_step, NAME##_train_step) \
  HALIDE_REGISTER_GENERATOR(kiln_registered_##NAME::attention, NAME##_attention)
