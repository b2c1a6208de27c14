// Times a zoo model's generated forward entry on random data:
//   bench_zoo_inference --model resnet18 [--batch 1] [--calls 10] [--rounds 1]
// prints one line per round, "kiln_ms <median of the calls>", then
// "kiln_peak_rss_mb <VmHWM>". Run by zoo_inference.py, which times torchvision's model in
// the same run and prints the ratios.
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {
// The process's peak resident set (VmHWM), in MiB.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kb = 0;
  while (status >> key)
    if (key == "VmHWM:") status >> kb;
  return kb / 1024;
}
}  // namespace

int main(int argc, char** argv) {
  std::string name = "resnet18";
  int batch = 1, calls = 10, rounds = 1;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (!std::strcmp(argv[k], "--model")) name = argv[k + 1];
    if (!std::strcmp(argv[k], "--batch")) batch = std::atoi(argv[k + 1]);
    if (!std::strcmp(argv[k], "--calls")) calls = std::atoi(argv[k + 1]);
    if (!std::strcmp(argv[k], "--rounds")) rounds = std::atoi(argv[k + 1]);
  }
  const kiln::RegisteredModel& model = kiln::find_model(name);
  const kiln::Network net(model, "cpu");
  kiln::Parameters params(model.view);
  params.initialize(1);
  std::vector<float> input(std::size_t(batch) * net.sample_size()), output(std::size_t(batch) * net.output_size());
  for (std::size_t k = 0; k < input.size(); ++k) input[k] = float((k * 2654435761u) % 1000) / 500.0f - 1.0f;
  for (int r = 0; r < rounds; ++r) {
    std::vector<double> ms;
    for (int c = 0; c < calls + 2; ++c) {
      const auto start = std::chrono::steady_clock::now();
      net.forward(params.data(), params.buffers(), input.data(), batch, output.data());
      const auto end = std::chrono::steady_clock::now();
      if (c >= 2) ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    fmt::print("kiln_ms {:.3f}\n", ms[ms.size() / 2]);
  }
  fmt::print("kiln_peak_rss_mb {:.0f}\n", peak_rss_mb());
  return 0;
}
