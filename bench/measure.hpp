// What the benchmark binaries measure besides time: the machine's fp32 peak, in the same
// run (AVX-512 FMA loops), and the process's peak resident memory.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace kiln::bench {

// 12 independent FMA chains of 16 floats (two FMA units of 4 cycles' latency need 8).
__attribute__((target("avx512f"))) inline float fma_loop(long iterations) {
  __m512 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_ps(float(k));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < 12; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  float sum = 0;
  for (int k = 0; k < 12; ++k) sum += _mm512_reduce_add_ps(acc[k]);
  return sum;
}

// GFLOP/s of `threads` threads running fma_loop (an FMA counts 2).
inline double peak_gflops(int threads) {
  const long iterations = 200'000'000;
  std::vector<std::thread> pool;
  std::vector<float> sink(threads);
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { sink[t] = fma_loop(iterations); });
  for (auto& th : pool) th.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return threads * iterations * 12.0 * 16 * 2 / s / 1e9 + 0 * sink[0];
}

// The value of integer flag `name` ("--batch") in argv's "--name value" pairs, or
// `fallback`.
inline int int_flag(int argc, char** argv, const std::string& name, int fallback) {
  for (int k = 1; k + 1 < argc; k += 2)
    if (name == argv[k]) return std::stoi(argv[k + 1]);
  return fallback;
}

// The median wall time of `calls` calls of call(k), in ms, after `warmup` untimed ones
// (k counts all calls from 0).
template <class Call>
double median_ms(int warmup, int calls, Call call) {
  std::vector<double> ms;
  for (int k = 0; k < warmup + calls; ++k) {
    const auto start = std::chrono::steady_clock::now();
    call(k);
    const auto end = std::chrono::steady_clock::now();
    if (k >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// The process's peak resident set (VmHWM), in MiB.
inline double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kb = 0;
  while (status >> key)
    if (key == "VmHWM:") status >> kb;
  return kb / 1024;
}

}  // namespace kiln::bench
