// Times kiln's GPU builds with every buffer resident on the device, as PyTorch's device
// tensors are (bench/gpu/run.sh runs it next to bench/gpu/torch_side.py):
//   bench_gpu --target cuda|opencl --workload lenet5_step|resnet18_step|conv3x3 [--batch B] [--calls K]
// prints "kiln_ms <median of 5 rounds of K calls, per call>". lenet5_step: LeNet-5's
// train_step (SGD with momentum), parameters and optimizer state updated in place on
// the device. conv3x3: the one-conv model conv3x3_gpu (64 -> 64 channels, 3x3, pad 1,
// 56 x 56), forward. The device is synchronized once per round (a copy of the loss or
// output to the host), so the calls' launches overlap as PyTorch's do.
#include "bench/train_step_timing.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <HalideBuffer.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
using Halide::Runtime::Buffer;

// Per call: the median of 5 rounds of `calls` calls and one synchronization (after a
// round that warms up: kernels compiled, memory cached).
template <class F>
double per_call_ms(int calls, F&& call, Buffer<float>& sync) {
  return kiln::bench::median_ms(1, 5, [&](int) {
           for (int k = 0; k < calls; ++k) call();
           sync.set_device_dirty();
           if (sync.copy_to_host() != 0) throw std::runtime_error("bench_gpu: copy to host failed");
         }) / calls;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(fmt::format("bench_gpu: {} failed (Halide error {})", what, rc));
}
}  // namespace

int main(int argc, char** argv) try {
  std::string target = "cuda", workload = "lenet5_step";
  int batch = 0, calls = 50;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (!std::strcmp(argv[k], "--target")) target = argv[k + 1];
    if (!std::strcmp(argv[k], "--workload")) workload = argv[k + 1];
    if (!std::strcmp(argv[k], "--batch")) batch = std::atoi(argv[k + 1]);
    if (!std::strcmp(argv[k], "--calls")) calls = std::atoi(argv[k + 1]);
  }
  // workload -> model, and whether it times a training step (else the forward entry).
  struct Workload {
    const char *name, *model;
    bool step;
    int batch;
  };
  static const Workload workloads[] = {{"lenet5_step", "lenet5", true, 256},
                                       {"resnet18_step", "resnet18", true, 64},
                                       {"conv3x3", "conv3x3_gpu", false, 32}};
  const Workload* w = nullptr;
  for (const Workload& k : workloads)
    if (workload == k.name) w = &k;
  if (!w) throw std::runtime_error("bench_gpu: unknown workload '" + workload + "'");
  const bool step = w->step;
  if (batch == 0) batch = w->batch;
  const kiln::RegisteredModel& model = kiln::find_model(w->model);
  const kiln::Network net(model, target);  // says so when the device is absent
  // ResNet-18's training entries are built with -DKILN_BUILD_ZOO_TRAINING=ON only.
  if (!net.has_entry(step ? "train_step" : "forward"))
    throw std::runtime_error(fmt::format("bench_gpu: {} has no {} entry for {} in this build", w->model,
                                         step ? "train_step" : "forward", target));
  const kiln::EntryRecord& e = model.entry(step ? "train_step" : "forward", target);
  kiln::Parameters params(model.view);
  params.initialize(1);
  const int P = int(params.size());
  Buffer<float> p(params.data(), P), m(P), v(P), b(params.buffers(), int(net.buffer_floats()));
  m.fill(0.0f);
  v.fill(0.0f);
  const kiln::Shape in_s = model.view.input_shape(), out_s = model.view.output_shape();
  std::vector<int> in_dims, out_dims;
  for (int k = in_s.rank - 1; k >= 0; --k) in_dims.push_back(in_s[k]);
  for (int k = out_s.rank - 1; k >= 0; --k) out_dims.push_back(out_s[k]);
  in_dims.push_back(batch);
  out_dims.push_back(batch);
  Buffer<float> input(in_dims), output(out_dims), loss = Buffer<float>::make_scalar();
  Buffer<int32_t> labels(batch);
  for (int k = 0; k < batch; ++k) labels(k) = k % int(out_s.elements());
  const std::vector<float> x = kiln::bench::pattern_values(input.number_of_elements());
  std::copy(x.begin(), x.end(), input.data());
  for (auto* buf : {&p, &m, &v, &b, &input}) buf->set_host_dirty();
  labels.set_host_dirty();

  double ms = 0;
  if (step) {
    int seed = 0, optimizer = int(kiln::Optimizer::momentum), t = 1;
    float lr = 0.01f, wd = 0.0f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    // params', m', v' and buffers' are the same device buffers: updated in place.
    std::vector<void*> args{p.raw_buffer(), m.raw_buffer(), v.raw_buffer(), b.raw_buffer(),
                            input.raw_buffer(), labels.raw_buffer(), &seed, &optimizer, &lr, &wd,
                            &b1, &b2, &eps, &t, loss.raw_buffer(), p.raw_buffer(), m.raw_buffer(),
                            v.raw_buffer(), b.raw_buffer()};
    ms = per_call_ms(calls, [&] { check(e.argv(args.data()), "train_step"); }, loss);
  } else {
    std::vector<void*> args{p.raw_buffer(), b.raw_buffer(), input.raw_buffer(), output.raw_buffer()};
    ms = per_call_ms(calls, [&] { check(e.argv(args.data()), "forward"); }, output);
  }
  fmt::print("kiln_ms {:.4f}\n", ms);
  return 0;
} catch (const std::exception& ex) {
  fmt::print(stderr, "{}\n", ex.what());
  return 1;
}
