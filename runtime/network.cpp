#include "runtime/network.hpp"

#include "runtime/error.hpp"

#include <HalideBuffer.h>

#include <array>
#include <malloc.h>
#include <mutex>
#include <vector>

namespace kiln {
using Halide::Runtime::Buffer;

namespace {

constexpr std::array<std::string_view, 6> optimizer_names{"sgd",     "momentum", "nesterov",
                                                          "adagrad", "rmsprop",  "adam"};

// Halide's runtime reports errors through a handler; keep the last message so that a
// failed call can say why in its one-line error.
thread_local std::string last_halide_error;
extern "C" void remember_halide_error(void*, const char* message) { last_halide_error = message; }

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

void call(const EntryRecord& e, std::string_view model, std::vector<void*> args) {
  prepare_process();
  last_halide_error.clear();
  if (int rc = e.argv(args.data()); rc != 0) {
    std::string why = last_halide_error;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    for (char& ch : why)
      if (ch == '\n') ch = ' ';
    fail("{} {} on {}: the generated code failed (Halide error {}): {}", model, e.entry,
         e.target, rc, why);
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

std::string halide_target(std::string_view name) {
  if (name == "cpu") return "host";
  if (name == "cuda" || name == "opencl") return "host-" + std::string(name);
  return std::string(name);
}

Network::Network(const RegisteredModel& model, std::string_view target)
    : model_(&model), target_(halide_target(target)) {
  model.entry("forward", target_);  // fails early, naming what was built
}

void Network::forward(const float* params, const float* buffers, const float* input, int batch,
                      float* output) const {
  auto p = Buffer<const float>(params, int(parameter_count()));
  auto b = Buffer<const float>(buffers, int(buffer_floats()));
  auto in = batch_buffer(input, view().input_shape(), batch);
  auto out = batch_buffer(output, view().output_shape(), batch);
  call(model_->entry("forward", target_), view().name,
       {p.raw_buffer(), b.raw_buffer(), in.raw_buffer(), out.raw_buffer()});
}

float Network::gradients(const float* params, const float* buffers, const float* input,
                         const int32_t* labels, int batch, uint32_t seed, float* grad_params,
                         float* grad_input) const {
  auto p = Buffer<const float>(params, int(parameter_count()));
  auto b = Buffer<const float>(buffers, int(buffer_floats()));
  auto in = batch_buffer(input, view().input_shape(), batch);
  auto lab = Buffer<const int32_t>(labels, batch);
  auto loss = Buffer<float>::make_scalar();
  auto gp = Buffer<float>(grad_params, int(parameter_count()));
  auto gi = batch_buffer(grad_input, view().input_shape(), batch);
  int s = int(seed);
  call(model_->entry("gradients", target_), view().name,
       {p.raw_buffer(), b.raw_buffer(), in.raw_buffer(), lab.raw_buffer(), &s, loss.raw_buffer(),
        gp.raw_buffer(), gi.raw_buffer()});
  return loss();
}

float Network::train_step(float* params, float* m, float* v, float* buffers, const float* input,
                          const int32_t* labels, int batch, uint32_t seed,
                          const HyperParameters& h) const {
  const EntryRecord& entry = model_->entry("train_step", target_);
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
  auto lab = Buffer<const int32_t>(labels, batch);
  auto loss = Buffer<float>::make_scalar();
  int optimizer = int(h.optimizer), step = h.step, s = int(seed);
  float lr = h.learning_rate, wd = h.weight_decay, b1 = h.beta1, b2 = h.beta2, eps = h.epsilon;
  call(entry, view().name,
       {p.raw_buffer(), bm.raw_buffer(), bv.raw_buffer(), b.raw_buffer(), in.raw_buffer(),
        lab.raw_buffer(), &s, &optimizer, &lr, &wd, &b1, &b2, &eps, &step, loss.raw_buffer(),
        p_out.raw_buffer(), m_out.raw_buffer(), v_out.raw_buffer(), b_out.raw_buffer()});
  if (!entry.updates_in_place) {
    p.copy_from(p_out);
    bm.copy_from(m_out);
    bv.copy_from(v_out);
    b.copy_from(b_out);
  }
  return loss();
}

}  // namespace kiln
