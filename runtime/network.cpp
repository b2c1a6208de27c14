#include "runtime/network.hpp"

#include "runtime/error.hpp"

#include <HalideBuffer.h>

#include <array>
#include <dlfcn.h>
#include <malloc.h>
#include <mutex>
#include <vector>

namespace kiln {
using Halide::Runtime::Buffer;

namespace {

constexpr std::array<std::string_view, 6> optimizer_names{"sgd",     "momentum", "nesterov",
                                                          "adagrad", "rmsprop",  "adam"};

// Halide's runtime reports errors through a handler; keep a call's first and last
// messages so that a failed call can say why in its one-line error (a device runtime
// reports the first failure and then what it led to).
thread_local std::string last_halide_error;
thread_local std::string first_halide_error;
extern "C" void remember_halide_error(void*, const char* message) {
  if (first_halide_error.empty()) first_halide_error = message;
  last_halide_error = message;
}

// Once per process: route Halide's errors to us, and keep freed memory mapped. Each
// call allocates its activations afresh (megabytes); with glibc's defaults large blocks
// are mmap'ed and unmapped every call, and the page faults of touching them again cost
// as much as a small model's whole training step.
void prepare_process() {
  static std::once_flag once;
  std::call_once(once, [] {
    halide_set_error_handler(remember_halide_error);
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    // The same for device memory: GPU entries allocate every intermediate on the device
    // per call; Halide's runtime keeps freed blocks for the next call instead.
    halide_reuse_device_allocations(nullptr, true);
  });
}

// A Halide buffer over a per-sample shape plus a batch, PyTorch memory order.
template <class T>
Buffer<T> batch_buffer(T* data, Shape s, int batch) {
  std::vector<int> extents;
  for (int k = s.rank - 1; k >= 0; --k) extents.push_back(s[k]);
  extents.push_back(batch);
  return Buffer<T>(data, extents);
}

// The labels of a batch: int32 [N], [N, T] for per-step logits (T, K), [N, H, W] per
// pixel; or a target_loss's float targets [N, 2, output shape]. kiln::Error when the
// caller gave the other kind than the model takes.
Buffer<const void> label_buffer(const ModelView& model, BatchLabels labels, int batch) {
  const Shape out = model.output_shape();
  if (uses_targets(model)) {
    if (!labels.targets) fail("{}: its loss is a target_loss: train it on float targets, not class labels", model.name);
    return batch_buffer(labels.targets, target_shape(out), batch);
  }
  if (!labels.classes) fail("{}: its loss takes int32 class labels, not float targets", model.name);
  return batch_buffer(labels.classes, label_shape(out), batch);
}

// What the batch carries beside the input (SideInput): the region list [N, R, 4] of a
// model with region layers, a decoder's words [N, T, 1]; kiln::Error when the model takes
// one and none was given (a model without takes none and ignores it).
std::vector<Buffer<const float>> side_buffer(const ModelView& model, const float* side, int batch) {
  const SideInput s = side_input(model);
  if (s.kind == SideKind::none) return {};
  if (!side && s.kind == SideKind::regions)
    fail("{}: its region layers read {} regions per image; none were given", model.name, s.rows);
  if (!side) fail("{}: its decoder reads {} words per sample ('{}'); none were given", model.name, s.rows, s.name());
  return {Buffer<const float>(side, s.columns, s.rows, batch)};
}

// The recurrent state a window starts from [N, S] (zeros when none is given), and the
// buffer for the one after it, for a model that carries state (none without).
struct CarryBuffers {
  std::vector<float> zeros, scratch;
  std::vector<Buffer<const float>> in;
  std::vector<Buffer<float>> out;
};
CarryBuffers carry_buffers(const ModelView& model, Carry carry, int batch) {
  CarryBuffers b;
  const int S = carried_state(model);
  if (S == 0) return b;
  if (!carry.in) b.zeros.assign(std::size_t(S) * batch, 0.0f);
  if (!carry.out) b.scratch.resize(std::size_t(S) * batch);
  b.in.emplace_back(carry.in ? carry.in : b.zeros.data(), S, batch);
  b.out.emplace_back(carry.out ? carry.out : b.scratch.data(), S, batch);
  return b;
}

// args with what the batch carries beside the input (the side buffer, then the carried
// state), if any, inserted after the batch (argument `after`), and the state after the
// window, if any, appended.
std::vector<void*> with_extras(std::vector<void*> args, std::size_t after, std::vector<Buffer<const float>>& side,
                               CarryBuffers& carry, bool carry_out) {
  std::vector<void*> extra;
  for (auto* list : {&side, &carry.in})
    for (auto& r : *list) {
      r.set_host_dirty();
      extra.push_back(r.raw_buffer());
    }
  args.insert(args.begin() + std::ptrdiff_t(after) + 1, extra.begin(), extra.end());
  if (carry_out)
    for (auto& r : carry.out) args.push_back(r.raw_buffer());
  return args;
}

void call(const EntryRecord& e, std::string_view model, std::vector<void*> args) {
  prepare_process();
  first_halide_error.clear();
  last_halide_error.clear();
  if (int rc = e.argv(args.data()); rc != 0) {
    auto one_line = [](std::string why) {
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      for (char& ch : why)
        if (ch == '\n') ch = ' ';
      return why;
    };
    std::string why = one_line(first_halide_error);
    if (last_halide_error != first_halide_error) why += " ... " + one_line(last_halide_error);
    fail("{} {} on {}: the generated code failed (Halide error {}): {}", model, e.entry,
         e.target, rc, why);
  }
}

// GPU entries copy an input to the device only when it is marked host-dirty, and leave
// their outputs there: inputs are marked before a call, outputs copied back after it
// (for CPU entries both do nothing).
template <class... B>
void mark_inputs(B&... b) {
  (b.set_host_dirty(), ...);
}
template <class... B>
void copy_back(const EntryRecord& e, std::string_view model, B&... b) {
  for (const int rc : {b.copy_to_host()...})
    if (rc != 0) fail("{} {} on {}: copying an output back from the device failed (Halide error {})", model, e.entry, e.target, rc);
}

}  // namespace

// Halide 14's GPU runtimes look for "libOpenCL.so" and "libcuda.so", which Debian ships
// only in -dev packages; what every install has is the ".so.1". These replace the
// runtimes' weak definitions; symbols already in the process come first, as there.
namespace {
void* open_first(std::initializer_list<const char*> files) {
  for (const char* file : files)
    if (void* lib = dlopen(file, RTLD_LAZY | RTLD_GLOBAL)) return lib;
  return nullptr;
}
void* driver_symbol(void* library, const char* name) {
  if (void* in_process = dlsym(RTLD_DEFAULT, name)) return in_process;
  return library ? dlsym(library, name) : nullptr;
}
}  // namespace

extern "C" void* halide_opencl_get_symbol(void*, const char* name) {
  static void* library = open_first({"libOpenCL.so.1", "libOpenCL.so"});
  return driver_symbol(library, name);
}

extern "C" void* halide_cuda_get_symbol(void*, const char* name) {
  static void* library = open_first({"libcuda.so.1", "libcuda.so"});
  return driver_symbol(library, name);
}

namespace {
// A GPU target's device, looked for before the first call, so that a machine without
// one gets a line saying so (not a failed call deep in a training run).
void check_device(std::string_view device) {
  if (device == "opencl") {
    using GetPlatforms = int (*)(unsigned, void*, unsigned*);
    auto platforms = reinterpret_cast<GetPlatforms>(halide_opencl_get_symbol(nullptr, "clGetPlatformIDs"));
    if (!platforms) fail("target opencl: no OpenCL library (libOpenCL.so.1) on this machine");
    unsigned count = 0;
    if (platforms(0, nullptr, &count) != 0 || count == 0)
      fail("target opencl: no OpenCL platform on this machine (for the CPU: Debian's pocl-opencl-icd)");
  } else if (device == "cuda") {
    using Init = int (*)(unsigned);
    using Count = int (*)(int*);
    auto init = reinterpret_cast<Init>(halide_cuda_get_symbol(nullptr, "cuInit"));
    auto devices = reinterpret_cast<Count>(halide_cuda_get_symbol(nullptr, "cuDeviceGetCount"));
    if (!init || !devices) fail("target cuda: no CUDA driver (libcuda.so.1) on this machine");
    int count = 0;
    if (const int rc = init(0); rc != 0) fail("target cuda: the CUDA driver found no usable device (cuInit error {})", rc);
    if (devices(&count) != 0 || count == 0) fail("target cuda: no CUDA device on this machine");
  }
}
}  // namespace

Optimizer parse_optimizer(std::string_view name) {
  for (std::size_t k = 0; k < optimizer_names.size(); ++k)
    if (name == optimizer_names[k]) return Optimizer(k);
  fail("--optimizer: unknown optimizer '{}' (known: sgd, momentum, nesterov, adagrad, rmsprop, adam)",
       name);
}

std::string_view optimizer_name(Optimizer o) { return optimizer_names[std::size_t(o)]; }

HyperParameters defaults_for(Optimizer o, float learning_rate) {
  HyperParameters h;
  h.optimizer = o;
  h.learning_rate = learning_rate;
  switch (o) {
    case Optimizer::adagrad: h.epsilon = 1e-10f; break;
    case Optimizer::rmsprop: h.beta2 = 0.99f; break;
    default: break;
  }
  return h;
}

Network::Network(const RegisteredModel& model, std::string_view target)
    : model_(&model), target_(target) {
  // Fails early, naming what was built, or the missing device.
  check_device(device_of(model.entry("forward", target_).target));
}

long long Network::targets_size() const {
  return uses_targets(view()) ? target_shape(view().output_shape()).elements() : 0;
}

long long Network::labels_size() const {
  return uses_targets(view()) ? 0 : label_shape(view().output_shape()).elements();
}

void Network::forward(const float* params, const float* buffers, const float* input, int batch,
                      float* output, const float* side, Carry carry) const {
  infer("forward", view().output_shape(), params, buffers, input, batch, output, side, carry, true);
}

void Network::attention(const float* params, const float* buffers, const float* input, int batch,
                        float* attention, const float* side, const float* state) const {
  infer("attention", attention_shape(view()), params, buffers, input, batch, attention, side, {state, nullptr}, false);
}

void Network::infer(std::string_view entry, Shape out_shape, const float* params, const float* buffers,
                    const float* input, int batch, float* output, const float* side, Carry carry,
                    bool carry_out) const {
  auto p = Buffer<const float>(params, int(parameter_count()));
  auto b = Buffer<const float>(buffers, int(buffer_floats()));
  auto in = batch_buffer(input, view().input_shape(), batch);
  auto out = batch_buffer(output, out_shape, batch);
  const EntryRecord& e = model_->entry(entry, target_);
  auto side_in = side_buffer(view(), side, batch);
  CarryBuffers state = carry_buffers(view(), carry, batch);
  mark_inputs(p, b, in);
  call(e, view().name,
       with_extras({p.raw_buffer(), b.raw_buffer(), in.raw_buffer(), out.raw_buffer()}, 2, side_in, state, carry_out));
  copy_back(e, view().name, out);
  if (carry_out)
    for (auto& o : state.out) copy_back(e, view().name, o);
}

float Network::gradients(const float* params, const float* buffers, const float* input,
                         BatchLabels labels, int batch, uint32_t seed, float* grad_params,
                         float* grad_input, const float* side, const float* state) const {
  auto p = Buffer<const float>(params, int(parameter_count()));
  auto b = Buffer<const float>(buffers, int(buffer_floats()));
  auto in = batch_buffer(input, view().input_shape(), batch);
  auto lab = label_buffer(view(), labels, batch);
  auto loss = Buffer<float>::make_scalar();
  auto gp = Buffer<float>(grad_params, int(parameter_count()));
  auto gi = batch_buffer(grad_input, view().input_shape(), batch);
  int s = int(seed);
  const EntryRecord& e = model_->entry("gradients", target_);
  auto side_in = side_buffer(view(), side, batch);
  CarryBuffers carried = carry_buffers(view(), {state, nullptr}, batch);
  mark_inputs(p, b, in, lab);
  call(e, view().name,
       with_extras({p.raw_buffer(), b.raw_buffer(), in.raw_buffer(), lab.raw_buffer(), &s, loss.raw_buffer(),
                    gp.raw_buffer(), gi.raw_buffer()}, 2, side_in, carried, false));
  copy_back(e, view().name, loss, gp, gi);
  return loss();
}

float Network::train_step(float* params, float* m, float* v, float* buffers, const float* input,
                          BatchLabels labels, int batch, uint32_t seed,
                          const HyperParameters& h, const float* side, Carry carry) const {
  const EntryRecord& entry = model_->entry("train_step", target_);
  if (h.clip_norm > 0 && !entry.clips_gradients)
    fail("{}: this build's train_step (scheduled by an autoscheduler) cannot clip gradients", view().name);
  const int P = int(parameter_count());
  auto p = Buffer<float>(params, P), bm = Buffer<float>(m, P), bv = Buffer<float>(v, P);
  auto b = Buffer<float>(buffers, int(buffer_floats()));
  // Separate outputs, copied back after the call, unless the entry may update in place.
  Buffer<float> p_out = p, m_out = bm, v_out = bv, b_out = b;
  if (!entry.updates_in_place) {
    p_out = p.copy();
    m_out = bm.copy();
    v_out = bv.copy();
    b_out = b.copy();
  }
  auto in = batch_buffer(input, view().input_shape(), batch);
  auto lab = label_buffer(view(), labels, batch);
  auto loss = Buffer<float>::make_scalar();
  int optimizer = int(h.optimizer), step = h.step, s = int(seed);
  float lr = h.learning_rate, wd = h.weight_decay, b1 = h.beta1, b2 = h.beta2, eps = h.epsilon;
  float clip = h.clip_norm;
  auto side_in = side_buffer(view(), side, batch);
  CarryBuffers state = carry_buffers(view(), carry, batch);
  mark_inputs(p, bm, bv, b, in, lab);
  call(entry, view().name,
       with_extras({p.raw_buffer(), bm.raw_buffer(), bv.raw_buffer(), b.raw_buffer(), in.raw_buffer(),
                    lab.raw_buffer(), &s, &optimizer, &lr, &wd, &b1, &b2, &eps, &step, &clip, loss.raw_buffer(),
                    p_out.raw_buffer(), m_out.raw_buffer(), v_out.raw_buffer(), b_out.raw_buffer()}, 4, side_in, state, true));
  copy_back(entry, view().name, loss, p_out, m_out, v_out, b_out);
  for (auto& o : state.out) copy_back(entry, view().name, o);
  if (!entry.updates_in_place) {
    p.copy_from(p_out);
    bm.copy_from(m_out);
    bv.copy_from(v_out);
    b.copy_from(b_out);
  }
  return loss();
}

}  // namespace kiln
