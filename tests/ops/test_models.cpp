// Small whole models through the real CPU schedules: lowered by lower_model and scheduled
// by each hand CPU policy (schedules::cpu_simd, batch innermost, and
// schedules::cpu_channels, channels innermost) exactly as generators/entries.hpp builds the gradients entry (and
// the forward entry), JIT-compiled once per model and run for batches of 3, 16 and 17
// (below, at and above one AVX-512 vector of samples). loss and the model output are
// compared with the double reference of the model, grad_params and grad_input with central
// differences of the reference loss.
#include "ops/support.hpp"

#include "generators/graph.hpp"
#include "schedules/schedule.hpp"

#include <chrono>

namespace kiln::optest {

// Models must be namespace-scope constexpr variables for view_of<>.
namespace models {
inline constexpr auto conv_pool = checked<model("conv_pool", input(2, 9, 9),
    conv2d(3, 3, pad(1), stride(2)), relu, max_pool(3, stride(2), pad(1)),
    flatten, dense(5), softmax_cross_entropy)>;

inline constexpr auto smooth_avg = checked<model("smooth_avg", input(3, 8, 7),
    conv2d(4, kernel(3, 1), pad(1, 0)), sigmoid, avg_pool(2),
    conv2d(3, kernel(1, 3), stride(2, 1)), kiln::tanh, avg_pool(3, stride(2), pad(1)),
    flatten, dense(6), kiln::tanh, dense(4), softmax_cross_entropy)>;

// Residual blocks inside the model: one with an identity shortcut, one with a 1x1
// stride-2 projection. conv1's value is read by the body and by the shortcut.
inline constexpr auto residual_inner = checked<model("residual_inner", input(2, 7, 7),
    conv2d(2, 3, pad(1)),
    residual(sequence(conv2d(2, 3, pad(1)), relu, conv2d(2, 3, pad(1)))), relu,
    residual(sequence(conv2d(3, 3, pad(1), stride(2)), relu, conv2d(3, 3, pad(1))),
             conv2d(3, 1, stride(2))),
    flatten, dense(4), softmax_cross_entropy)>;

// A GoogLeNet-style module: three branches read conv1's value and are joined.
inline constexpr auto concat_inner = checked<model("concat_inner", input(3, 6, 6),
    conv2d(3, 1),
    concat(conv2d(2, 1), sequence(conv2d(2, 3, pad(1)), relu), max_pool(3, stride(1), pad(1))),
    conv2d(2, 1), relu, flatten, dense(4), softmax_cross_entropy)>;

// Ops whose adjoints meet: a conv read straight by a tiling max_pool (the pool's d_in is
// the conv's d_out, which both schedule), and a conv read by a residual add and a conv.
inline constexpr auto conv_pool_direct = checked<model("conv_pool_direct", input(2, 8, 8),
    conv2d(3, 3, pad(1)), max_pool(2), conv2d(3, 3, pad(1)),
    residual(sequence(conv2d(3, 3, pad(1)))), flatten, dense(3), softmax_cross_entropy)>;

// Every activation with a constant and global_avg_pool: prelu's slopes are learned per
// channel; leaky_relu and elu with non-default constants, so a constant dropped shows.
inline constexpr auto slopes_and_gap = checked<model("slopes_and_gap", input(2, 7, 6),
    conv2d(4, 3, pad(1)), prelu(), conv2d(5, 3, stride(2)), leaky_relu(0.2f), global_avg_pool,
    dense(6), elu(0.7f), prelu(), dense(3), softmax_cross_entropy)>;

// Dilated, grouped and bias-free convs and maxout on images and features: the CPU
// schedule's conv paths with grouped channel indices, and maxout's argmax.
inline constexpr auto grouped_maxout = checked<model("grouped_maxout", input(4, 7, 7),
    conv2d(4, 3, dilation(2), pad(2), groups(2), no_bias), relu,
    conv2d(8, 3, groups(4), stride(2), pad(1)), maxout(2),
    conv2d(6, kernel(1, 3), dilation(1, 2), pad(0, 2), groups(2)), flatten,
    dense(12, no_bias), maxout(3), dense(3), softmax_cross_entropy)>;

// A depthwise conv wider than the schedule's 16-channel register tile (MobileNet style:
// depthwise 3x3, then pointwise 1x1); its generated code must still compile quickly.
inline constexpr auto depthwise_wide = checked<model("depthwise_wide", input(32, 3, 3),
    conv2d(32, 3, groups(32), pad(1), no_bias), relu, conv2d(8, 1), relu, global_avg_pool,
    dense(3), softmax_cross_entropy)>;

// A conv whose activations per image (96 x 96 x 4 channels, in and out) pass the
// channels-innermost policy's L2 budget, so its weight gradient is summed in chunks of
// rows (rfactor) and the chunks added; global_avg_pool keeps the parameters few, since
// each is checked by finite differences.
inline constexpr auto large_image = checked<model("large_image", input(4, 96, 96),
    conv2d(4, 3, pad(1)), relu, global_avg_pool, dense(3), softmax_cross_entropy)>;

// A model whose output is a conv's image: its channels-last forward entry writes the
// conv's register tiles straight into the output buffer.
inline constexpr auto conv_image_out = checked<model("conv_image_out", input(16, 9, 12),
    conv2d(16, 3, pad(1)), relu, conv2d(32, 3, pad(1), stride(2)))>;

// Convs lowered other than directly (gen::ConvLowering, lowered_cases below): Winograd
// on odd and even sizes, fused with batch norm, inside a residual block; im2col strided
// and grouped. The channels-innermost policy schedules these lowerings.
inline constexpr auto lowered_convs = checked<model("lowered_convs", input(4, 9, 10),
    conv2d(8, 3, pad(1)).named("wino1"), batch_norm(), relu,
    conv2d(8, 3, pad(1), stride(2)).named("col1"), relu,                    // 8 x 5 x 5
    residual(sequence(conv2d(8, 3, pad(1)).named("wino2"), relu)),
    conv2d(6, 3, groups(2)).named("col2"), relu,                            // 6 x 3 x 3
    flatten, dense(3), softmax_cross_entropy)>;

// Winograd's two ways to share the work (schedules/cpu_channels.cpp, winograd_sum), each
// forced by the conv's `tasks` knob (the rule would give both rows of tiles, their filters
// being small), on a conv of more output channels (32) than tiles (9) and one of fewer.
inline constexpr auto winograd_tasks = checked<model("winograd_tasks", input(4, 6, 6),
    conv2d(32, 3, pad(1)).named("wide"), relu, conv2d(8, 3, pad(1)).named("narrow"), relu,
    flatten, dense(3), softmax_cross_entropy)>;

// Tuned register tiles of the batch-innermost policy (tune::knobs_of, tuned_cases below):
// channel tiles that divide the channels, pixel counts that do not divide the row, a
// weight-gradient tile wider than the kernel's row, dense rows that do not divide the
// features.
inline constexpr auto tuned_tiles = checked<model("tuned_tiles", input(3, 7, 9),
    conv2d(6, 3, pad(1)).named("c1"), relu, max_pool(2),                   // 6 x 3 x 4
    conv2d(8, 3, pad(1)).named("c2"), relu,                                 // 8 x 3 x 4
    flatten, dense(10).named("d1"), relu, dense(4).named("d2"), softmax_cross_entropy)>;

inline constexpr auto mlp = checked<model("mlp", input(10),
    dense(8), relu, dense(6), sigmoid, dense(3), softmax_cross_entropy)>;

// Regression: a block that reads the model input directly. The input then has several
// consumers and grad_input is the sum of their adjoints; it once went unscheduled and
// unbounded, so the channel loops the CPU schedule unrolls got extents that depended on
// grad_input's buffer: "Can only unroll for loops over a constant extent".
inline constexpr auto residual_at_input = checked<model("residual_at_input", input(2, 5, 5),
    residual(sequence(conv2d(2, 3, pad(1)))), flatten, dense(3), softmax_cross_entropy)>;
inline constexpr auto concat_at_input = checked<model("concat_at_input", input(2, 5, 5),
    concat(conv2d(2, 1), conv2d(1, 3, pad(1))), flatten, dense(3), softmax_cross_entropy)>;

// Batch norm after convs and after a dense layer, a residual block whose shortcut feeds
// batch-normed values, dropout on images and on features, and input normalization.
inline constexpr auto normalized = checked<model("normalized", input(3, 6, 6),
    normalize({0.5f, 0.4f, 0.3f}, {0.2f, 0.3f, 0.25f}),
    conv2d(4, 3, pad(1)), batch_norm(), relu,
    residual(sequence(conv2d(4, 3, pad(1)), batch_norm(1e-3f, 0.2f), relu, dropout(0.25f))),
    max_pool(2), flatten, dense(6), batch_norm(), relu, dropout(), dense(3), softmax_cross_entropy)>;

// An FCN in miniature: a U-Net skip (concat with identity) around a pooled stage that a
// stride-2 transposed conv brings back up, a residual skip around a pool and a bilinear
// upsampling, and an overlapping transposed conv (kernel 4, stride 2, pad 1) that ends
// the net at twice the input's size with per-pixel logits and loss.
inline constexpr auto tiny_segmenter = checked<model("tiny_segmenter", input(2, 8, 6),
    conv2d(4, 3, pad(1)), relu,
    concat(identity, sequence(max_pool(2), conv2d(6, 3, pad(1)), relu,
                              conv_transpose2d(3, 2, stride(2)))),           // 7 x 8 x 6
    conv2d(4, 3, pad(1)), relu,
    residual(sequence(max_pool(2), conv2d(4, 1), upsample_bilinear(2))),    // 4 x 8 x 6
    conv_transpose2d(3, 4, stride(2), pad(1)),                              // 3 x 16 x 12
    pixel_softmax_cross_entropy)>;
}  // namespace models

namespace {

using Halide::ImageParam;
using reference::numerical_gradient;
using schedules::Entry;

struct ModelCase {
  const char* label;
  ModelView (*view)();
  std::vector<int> batches = {3, 16, 17};
  // grad_input by finite differences: one reference evaluation pair per input value.
  bool check_input_gradient = true;
  // How its convs are lowered (gen::conv_lowerings_of); the policies that lower convs
  // directly only skip a case with any other.
  const char* lowerings = "";
  // Tuned knobs: of the channels-innermost policy where the case has lowerings, else of
  // the batch-innermost (the other policy skips a case with them).
  gen::Knobs knobs = {};
};

const std::vector<ModelCase> model_cases = {
    {"conv 3x3 s2 p1, relu, max_pool 3 s2 p1, dense", &view_of<models::conv_pool>},
    {"conv (3,1) p(1,0), sigmoid, avg_pool 2, conv (1,3) s(2,1), tanh, avg_pool 3 s2 p1, dense, tanh, dense",
     &view_of<models::smooth_avg>},
    {"residual identity + residual with 1x1 s2 projection", &view_of<models::residual_inner>},
    {"concat of conv 1x1, conv 3x3 + relu, max_pool 3 s1 p1", &view_of<models::concat_inner>},
    {"mlp: flat input, dense, relu, dense, sigmoid, dense", &view_of<models::mlp>},
    {"conv read straight by max_pool 2, conv read by a residual", &view_of<models::conv_pool_direct>},
    {"conv, prelu, conv s2, leaky_relu(0.2), global_avg_pool, dense, elu(0.7), prelu (flat), dense",
     &view_of<models::slopes_and_gap>},
    {"conv d2 g2 no_bias, conv g4 s2, maxout(2), conv (1,3) d(1,2) p(0,2) g2, dense no_bias, maxout(3), dense",
     &view_of<models::grouped_maxout>},
    {"depthwise conv over 32 channels, pointwise conv, global_avg_pool, dense",
     &view_of<models::depthwise_wide>},
    {"residual reading the model input", &view_of<models::residual_at_input>},
    {"concat reading the model input", &view_of<models::concat_at_input>},
    {"normalize, conv + batch_norm, residual with batch_norm and dropout, dense + batch_norm, dropout",
     &view_of<models::normalized>},
    // 73,728 input values per image: too many to difference; its grad_input takes the
    // same paths as the other models'.
    {"conv over 96 x 96 (weight gradient in chunks of rows), global_avg_pool, dense",
     &view_of<models::large_image>, {2}, false},
    {"segmenter: concat(identity, pool + conv_transpose2d), residual with upsample_bilinear, per-pixel loss",
     &view_of<models::tiny_segmenter>, {3, 17}},
    {"convs lowered by Winograd (with batch norm, odd sizes, in a residual) and im2col (strided, grouped)",
     &view_of<models::lowered_convs>, {3}, true, "wino1:winograd,col1:im2col,wino2:winograd,col2:im2col"},
    {"Winograd tasks: wide per tile of channels (two tiles), narrow per row of tiles",
     &view_of<models::winograd_tasks>, {3}, true, "wide:winograd,narrow:winograd",
     {{"wide", {{"tasks", "tiles"}, {"tile", "1x3"}}}, {"narrow", {{"tasks", "rows"}}}}},
    {"Winograd tasks: wide per row of tiles, narrow per tile of channels",
     &view_of<models::winograd_tasks>, {3}, true, "wide:winograd,narrow:winograd",
     {{"wide", {{"tasks", "rows"}}}, {"narrow", {{"tasks", "tiles"}}}}},
    {"tuned register tiles: conv channel x pixel tiles, weight-gradient tiles, dense rows",
     &view_of<models::tuned_tiles>, {3, 17}, true, "",
     {{"c1", {{"tile", "3x3"}, {"d_in_tile", "1x4"}, {"d_weight", "2x3"}}},
      {"c2", {{"tile", "4x4"}, {"d_in_tile", "2x2"}, {"d_weight", "1x8"}}},
      {"d1", {{"tile", "4x1"}, {"d_in_tile", "12x1"}}},
      {"d2", {{"tile", "4x1"}}}}},
};

// The seed the gradients entry draws dropout masks from in these tests.
constexpr uint32_t test_seed = 77;

// The entries' inputs, as ImageParams (the JIT twin of the generator's Input<Buffer>s).
// A hand CPU policy, as schedules/schedule.hpp declares them.
using PolicyFn = void (*)(const ModelView&, gen::LoweredModel&, Entry, const schedules::EntryOutputs&,
                          const Halide::Target&);
struct PolicyCase {
  const char* label;
  PolicyFn schedule;
};
const PolicyCase policies[] = {{"batch-innermost", &schedules::cpu_simd},
                               {"channels-innermost", &schedules::cpu_channels}};

struct EntryInputs {
  ImageParam params, buffers, input, labels;
  Halide::Param<int> seed{"seed"};
  explicit EntryInputs(const ModelView& view)
      : params(Halide::Float(32), 1, "params"),
        buffers(Halide::Float(32), 1, "buffers"),
        input(Halide::Float(32), view.input_shape().rank + 1, "input"),
        labels(Halide::Int(32), label_shape(view.output_shape()).rank + 1, "labels") {}
  Halide::Expr batch() const { return input.dim(input.dimensions() - 1).extent(); }
  gen::Knobs knobs;  // the convs' lowerings
  gen::ModelInputs lowering_inputs(const Halide::Func& labels_func) const {
    return {params, buffers, input, labels_func, batch(), seed, {}, {}, knobs};
  }
};

// The gradients entry, as Gradients<>::generate() builds it.
Halide::Pipeline gradients_entry(const ModelView& view, EntryInputs& in, const Halide::Target& t,
                                 PolicyFn schedule) {
  gen::LoweredModel m = gen::lower_model(view, in.lowering_inputs(in.labels), true);
  schedule(view, m, Entry::gradients, {{m.loss, m.grad_params, m.grad_input}, {}, {}}, t);
  return Halide::Pipeline({m.loss, m.grad_params, m.grad_input});
}

// The forward entry, as Forward<>::generate() builds it (labels unused); channels_last:
// input and output images in channels-last order (io_layout nhwc).
Halide::Pipeline forward_entry(const ModelView& view, EntryInputs& in, const Halide::Target& t,
                               PolicyFn schedule, bool channels_last = false) {
  Halide::Func no_labels("no_labels");
  no_labels(gen::dims().positions(view.output_shape())) = 0;
  gen::ModelInputs inputs = in.lowering_inputs(no_labels);
  if (channels_last) inputs.input = gen::nchw_view(in.input, view.input_shape());
  gen::LoweredModel m = gen::lower_model(view, inputs, false);
  const Halide::Func out = channels_last ? gen::channels_last(m.output, view.output_shape()) : m.output;
  schedule(view, m, Entry::forward, {{out}, {}, {}, channels_last}, t);
  return Halide::Pipeline(out);
}

// Weights U(-1, 1) sqrt(6 / fan_in) (He uniform), biases U(-0.1, 0.1): activations and
// gradients of order one, so that float32 rounding and finite-difference noise stay
// small next to the gradients even down at the input. prelu's slopes (a constant
// init) are U(-1, 1): different per channel, so a slope read for the wrong channel shows.
std::vector<double> random_parameters(const ModelView& view, std::mt19937& rng) {
  std::vector<double> flat(view.parameter_count);
  for (const Parameter& p : view.parameters) {
    const double scale = p.init == Init::constant ? 1.0
                         : p.role == ParameterRole::weight ? std::sqrt(6.0 / p.fan_in) : 0.1;
    const Tensor t = random_tensor({int(p.size())}, rng, Data::uniform, scale);
    scatter_to_storage(p, t.data.data(), flat.data());
  }
  return flat;
}

void check_model(const ModelCase& c, int case_index, const PolicyCase& policy) {
  const ModelView view = c.view();
  const Halide::Target target = Halide::get_jit_target_from_environment();
  const auto start = std::chrono::steady_clock::now();
  EntryInputs in_g(view), in_f(view);
  in_g.knobs = in_f.knobs = gen::conv_lowerings_of(c.lowerings, view);
  for (const auto& [layer, values] : c.knobs)
    for (const auto& [knob, value] : values) in_g.knobs[layer][knob] = in_f.knobs[layer][knob] = value;
  Halide::Pipeline gradients = gradients_entry(view, in_g, target, policy.schedule);
  gradients.compile_jit(target);
  const auto compiled_gradients = std::chrono::steady_clock::now();
  Halide::Pipeline forward = forward_entry(view, in_f, target, policy.schedule);
  forward.compile_jit(target);
  const auto compiled = std::chrono::steady_clock::now();

  for (int N : c.batches) {
    std::mt19937 rng(7000u + 1000u * unsigned(case_index) + unsigned(N));
    const std::string tag = std::string(view.name) + " (" + policy.label + "), N=" + std::to_string(N) + ": ";
    const std::vector<double> params = random_parameters(view, rng);
    std::vector<double> buffers(std::size_t(std::max<long long>(1, view.buffer_count)));
    for (const Parameter& b : view.buffers)  // running means in [-1, 1], variances in [0.5, 1.5]
      for (long long k = 0; k < b.size(); ++k)
        buffers[std::size_t(b.offset + k)] = b.role == ParameterRole::running_var ? 1.0 + random_tensor({1}, rng).data[0] / 2
                                                                                  : random_tensor({1}, rng).data[0];
    const Tensor input = random_tensor(batched(N, view.input_shape()), rng);
    const std::vector<int> labels = random_labels_for(view.output_shape(), N, rng);

    Halide::Buffer<float> params_buffer = buffer_of(Tensor({int(params.size())}));
    for (std::size_t k = 0; k < params.size(); ++k) params_buffer.data()[k] = float(params[k]);
    Halide::Buffer<float> input_buffer = buffer_of(input);
    Halide::Buffer<int32_t> label_values = labels_buffer(labels, view.output_shape(), N);
    Halide::Buffer<float> buffers_buffer(int(buffers.size()));
    for (std::size_t k = 0; k < buffers.size(); ++k) buffers_buffer.data()[k] = float(buffers[k]);
    for (EntryInputs* e : {&in_g, &in_f}) {
      e->params.set(params_buffer);
      e->buffers.set(buffers_buffer);
      e->seed.set(int(test_seed));
      e->input.set(input_buffer);
      e->labels.set(label_values);
    }
    Halide::Buffer<float> loss = nan_buffer({});
    Halide::Buffer<float> grad_params = nan_buffer({int(params.size())});
    Halide::Buffer<float> grad_input = nan_buffer(input.shape);
    Halide::Buffer<float> output = nan_buffer(batched(N, view.output_shape()));
    gradients.realize({loss, grad_params, grad_input}, target);
    forward.realize(output, target);

    // forward is inference (running statistics, no dropout); gradients trains.
    const reference::Mode training{true, test_seed};
    const reference::ModelValues inferred = reference::evaluate(view, params, buffers, input, labels, {false, 0});
    const reference::ModelValues ref = reference::evaluate(view, params, buffers, input, labels, training);
    compare(tag + "forward entry: output", values_of(output), inferred.nodes[view.output_node].data,
            Metric::elementwise, forward_tolerance);
    compare(tag + "gradients entry: loss", values_of(loss), {ref.loss}, Metric::elementwise,
            forward_tolerance);
    const std::vector<double> fd_params = numerical_gradient([&](const std::vector<double>& x) {
      return reference::evaluate(view, x, buffers, input, labels, training).loss;
    }, params);
    compare(tag + "gradients entry: grad_params", values_of(grad_params), fd_params, Metric::scaled,
            gradient_tolerance);
    // Per parameter tensor too, so that a wrong tensor is named even where it is small
    // (but not judged on float32 rounding where its true gradient is zero).
    double whole = 0;
    for (double g : fd_params) whole = std::max(whole, std::abs(g));
    for (const Parameter& p : view.parameters) {
      auto cut = [&](const std::vector<double>& v) { return reference::parameter(p, v).data; };
      compare(tag + "  " + std::string(p.name.view()), cut(values_of(grad_params)), cut(fd_params),
              Metric::scaled, gradient_tolerance, 1e-2 * whole);
    }
    if (!c.check_input_gradient) continue;
    const std::vector<double> fd_input = numerical_gradient([&](const std::vector<double>& x) {
      Tensor moved = input;
      moved.data = x;
      return reference::evaluate(view, params, buffers, moved, labels, training).loss;
    }, input.data);
    compare(tag + "gradients entry: grad_input", values_of(grad_input), fd_input, Metric::scaled,
            gradient_tolerance);
  }
  const auto done = std::chrono::steady_clock::now();
  std::printf("        %s, %s: JIT compile %.2f s (gradients %.2f s), batches %.2f s\n", c.label, policy.label,
              std::chrono::duration<double>(compiled - start).count(),
              std::chrono::duration<double>(compiled_gradients - start).count(),
              std::chrono::duration<double>(done - compiled).count());
}

TEST_CASE("channels-last forward entry: the NCHW entry's values, transposed", "[models]") {
  const ModelView view = view_of<models::conv_image_out>();
  const Halide::Target target = Halide::get_jit_target_from_environment();
  EntryInputs nchw(view), nhwc(view);
  Halide::Pipeline plain = forward_entry(view, nchw, target, &schedules::cpu_channels);
  Halide::Pipeline last = forward_entry(view, nhwc, target, &schedules::cpu_channels, true);

  const Shape is = view.input_shape(), os = view.output_shape();
  const int N = 3;
  std::mt19937 rng(5);
  const std::vector<double> params = random_parameters(view, rng);
  Halide::Buffer<float> p(int(params.size())), b(1);
  for (std::size_t k = 0; k < params.size(); ++k) p(int(k)) = float(params[k]);
  b.fill(0.0f);
  Halide::Buffer<float> x(is.width(), is.height(), is.channels(), N);
  Halide::Buffer<float> x_last(is.channels(), is.width(), is.height(), N);
  x.for_each_element([&](int u, int v, int c, int n) {
    x(u, v, c, n) = x_last(c, u, v, n) = std::uniform_real_distribution<float>(-1, 1)(rng);
  });
  for (EntryInputs* e : {&nchw, &nhwc}) {
    e->params.set(p);
    e->buffers.set(b);
  }
  nchw.input.set(x);
  nhwc.input.set(x_last);
  Halide::Buffer<float> y(os.width(), os.height(), os.channels(), N);
  Halide::Buffer<float> y_last(os.channels(), os.width(), os.height(), N);
  y.fill(NAN);
  y_last.fill(NAN);
  plain.realize(y, target);
  last.realize(y_last, target);
  int checked = 0;
  y.for_each_element([&](int u, int v, int c, int n) {
    INFO("x " << u << " y " << v << " c " << c << " n " << n);
    REQUIRE(std::isfinite(y(u, v, c, n)));
    CHECK(y_last(c, u, v, n) == Approx(y(u, v, c, n)).epsilon(1e-6).margin(1e-6));
    ++checked;
  });
  CHECK(checked == os.elements() * N);
}

TEST_CASE("small models through the CPU schedules: loss, output, gradients", "[models]") {
  for (const PolicyCase& policy : policies)
    for (std::size_t k = 0; k < model_cases.size(); ++k) {
      if (*model_cases[k].lowerings && policy.schedule != &schedules::cpu_channels) continue;
      if (!model_cases[k].knobs.empty() && !*model_cases[k].lowerings && policy.schedule != &schedules::cpu_simd)
        continue;
      DYNAMIC_SECTION(policy.label << ": " << model_cases[k].label) {
        try {
          check_model(model_cases[k], int(k), policy);
        } catch (const std::exception& e) {  // Halide compile or run-time errors
          std::printf("NOT OK  %s, %s: %s\n", model_cases[k].label, policy.label, e.what());
          FAIL_CHECK(policy.label << ": " << model_cases[k].label << ": " << e.what());
        }
      }
    }
}

TEST_CASE("conv lowerings: bad requests and policies that lower directly only are one-line errors", "[models]") {
  const ModelView view = view_of<models::lowered_convs>();
  auto error_of = [&](const char* text) {
    try {
      gen::conv_lowerings_of(text, view);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("wino1") == "kiln: conv_lowerings: 'wino1': expected layer:lowering");
  CHECK(error_of("nope:im2col") == "kiln: conv_lowerings: 'nope:im2col': the model lowered_convs has no layer of that name");
  CHECK(error_of("fc1:im2col") == "kiln: conv_lowerings: 'fc1:im2col': not a conv2d layer");
  CHECK(error_of("wino1:fft") == "kiln: conv_lowerings: 'wino1:fft': unknown lowering (direct, im2col, winograd)");
  CHECK(error_of("col1:winograd") ==
        "kiln: conv_lowerings: 'col1:winograd': winograd lowers 3x3 convs of stride 1, dilation 1 and one group only");
  CHECK(gen::conv_lowerings_of("", view).empty());
  CHECK(gen::conv_lowerings_of("wino1:winograd,col2:direct", view).size() == 2);

  EntryInputs in(view);
  in.knobs = gen::conv_lowerings_of("col1:im2col", view);
  try {
    forward_entry(view, in, Halide::get_jit_target_from_environment(), &schedules::cpu_simd);
    FAIL("cpu_simd scheduled an im2col conv");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "kiln: col1: the cpu_simd policy lowers convs directly only, not by im2col");
  }
}

}  // namespace
}  // namespace kiln::optest
