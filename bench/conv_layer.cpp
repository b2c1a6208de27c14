// Times one generated conv layer's forward entry (bench/conv_layers.hpp) on random data:
//   bench_conv_layer --layer conv3x3_56 --batch 8 [--calls 20] [--rounds 1]
// prints one line per round, "kiln_ms <median of the calls>", then "kiln_peak_rss_mb
// <VmHWM>"; or, with --peak, the fp32 FMA throughput of 2 threads ("peak_gflops <x>"). Run by conv_layer.py, which times
// PyTorch in the same run and prints the ratios.
#include "conv_layers.inc"
#include "bench/conv_layers.hpp"
#include "bench/measure.hpp"

#include <HalideBuffer.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Entry = int (*)(halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*);  // params, buffers, input, output
struct Layer {
  const char* name;
  Entry forward;
  kiln::ModelView (*view)();
};
#define KILN_ROW(model, function) {#model, &function, &kiln::view_of<kiln::bench::model>},
const Layer layers[] = {KILN_CONV_LAYERS(KILN_ROW)};

// A channels-last batch of per-sample image shape s (Halide dims c, x, y, n), as the
// layers' forward entries take and return (IO_LAYOUT nhwc, bench/CMakeLists.txt).
Halide::Runtime::Buffer<float> batch_buffer(kiln::Shape s, int n) {
  return Halide::Runtime::Buffer<float>(s.channels(), s.width(), s.height(), n);
}

}  // namespace

int main(int argc, char** argv) {
  std::string name = "conv3x3_56";
  int batch = 1, calls = 20, rounds = 1;
  for (int k = 1; k < argc; ++k) {
    if (!std::strcmp(argv[k], "--peak")) {
      for (int r = 0; r < 3; ++r) std::printf("peak_gflops %.1f\n", kiln::bench::peak_gflops(2));
      return 0;
    }
    if (k + 1 >= argc) break;
    if (!std::strcmp(argv[k], "--layer")) name = argv[++k];
    else if (!std::strcmp(argv[k], "--batch")) batch = std::atoi(argv[++k]);
    else if (!std::strcmp(argv[k], "--calls")) calls = std::atoi(argv[++k]);
    else if (!std::strcmp(argv[k], "--rounds")) rounds = std::atoi(argv[++k]);
  }
  const Layer* layer = nullptr;
  for (const Layer& l : layers)
    if (name == l.name) layer = &l;
  if (!layer) {
    std::fprintf(stderr, "bench_conv_layer: unknown layer '%s'\n", name.c_str());
    return 1;
  }
  // As kiln::Network does: the entries' big intermediates reuse freed heap instead of
  // fresh (page-faulting) mmaps on every call.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  const kiln::ModelView view = layer->view();
  Halide::Runtime::Buffer<float> params(int(view.parameter_count));
  Halide::Runtime::Buffer<float> buffers(1);  // no batch norm: one unused float
  buffers.fill(0.0f);
  Halide::Runtime::Buffer<float> input = batch_buffer(view.input_shape(), batch);
  Halide::Runtime::Buffer<float> output = batch_buffer(view.output_shape(), batch);
  unsigned seed = 1;
  auto next = [&] { seed = seed * 1664525u + 1013904223u; return float(seed >> 8) / float(1 << 24) - 0.5f; };
  params.for_each_value([&](float& v) { v = 0.1f * next(); });
  input.for_each_value([&](float& v) { v = next(); });
  for (int r = 0; r < rounds; ++r) {
    bool failed = false;
    const double ms = kiln::bench::median_ms(3, calls, [&](int) {
      failed |= layer->forward(params.raw_buffer(), buffers.raw_buffer(), input.raw_buffer(),
                               output.raw_buffer()) != 0;
    });
    if (failed) return 1;
    std::printf("kiln_ms %.4f\n", ms);
  }
  std::printf("kiln_peak_rss_mb %.0f\n", kiln::bench::peak_rss_mb());
  return 0;
}
