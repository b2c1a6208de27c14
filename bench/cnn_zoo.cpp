// Times a zoo model's generated entry on random data:
//   bench_cnn_zoo --model resnet18 [--entry forward|train_step] [--batch 1] [--calls 10]
// prints "kiln_ms <median of the calls>", then "kiln_peak_rss_mb <VmHWM>"; or, with
// --peak, the fp32 FMA throughput of 2 threads ("peak_gflops <x>"). Run by cnn_zoo.py,
// which times torchvision's model in the same run and prints the ratios.
#include "bench/measure.hpp"
#include "runtime/error.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
int run(int argc, char** argv) {
  std::string name = "resnet18", entry = "forward";
  int batch = 1, calls = 10;
  for (int k = 1; k < argc; ++k) {
    if (!std::strcmp(argv[k], "--peak")) {
      fmt::print("peak_gflops {:.1f}\n", kiln::bench::peak_gflops(2));
      return 0;
    }
    if (k + 1 >= argc) break;
    if (!std::strcmp(argv[k], "--model")) name = argv[++k];
    else if (!std::strcmp(argv[k], "--entry")) entry = argv[++k];
    else if (!std::strcmp(argv[k], "--batch")) batch = std::atoi(argv[++k]);
    else if (!std::strcmp(argv[k], "--calls")) calls = std::atoi(argv[++k]);
  }
  const kiln::RegisteredModel& model = kiln::find_model(name);
  model.entry(entry, "host");  // a one-line error when that entry was not built
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  std::vector<float> input(std::size_t(batch) * net.sample_size()), output(std::size_t(batch) * net.output_size());
  for (std::size_t k = 0; k < input.size(); ++k) input[k] = float((k * 2654435761u) % 1000) / 500.0f - 1.0f;
  std::vector<int32_t> labels(batch);
  for (int i = 0; i < batch; ++i) labels[i] = int32_t(i * 7 % net.output_size());
  const bool training = entry == "train_step";
  std::vector<float> m(training ? params.size() : 0), v(training ? params.size() : 0);
  const kiln::HyperParameters hyper = kiln::defaults_for(kiln::Optimizer::momentum, 1e-4f);
  const double ms = kiln::bench::median_ms(2, calls, [&](int k) {
    if (training)
      net.train_step(params.data(), m.data(), v.data(), params.buffers(), input.data(),
                     labels.data(), batch, uint32_t(k), hyper);
    else
      net.forward(params.data(), params.buffers(), input.data(), batch, output.data());
  });
  fmt::print("kiln_ms {:.3f}\n", ms);
  fmt::print("kiln_peak_rss_mb {:.0f}\n", kiln::bench::peak_rss_mb());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const kiln::Error& e) {
    fmt::print(stderr, "bench_cnn_zoo: {}\n", e.what());
    return 1;
  }
}
