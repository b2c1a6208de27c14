#!/usr/bin/python3
"""Single convolution layers, forward: kiln's generated code against PyTorch in one run.

    /usr/bin/python3 bench/conv_layer.py [--kiln build/bin/bench_conv_layer] [--rounds 3]
                                         [--only conv3x3_56]

Needs a build configured with -DKILN_BENCH_CONV_LAYERS=ON. For each layer, alternates
rounds of kiln (a separate process timing the AOT forward entry of a one-conv model,
channels-last in and out, bench/conv_layers.hpp) and PyTorch (2 threads, oneDNN, once with NCHW
tensors and once channels_last; its better format counts). Each side is reported at its
best round, since on a shared machine a round is only ever slowed down; the ratio
PyTorch / kiln (> 1: kiln is faster) is taken between the two bests. The peak is
measured by the kiln binary (an AVX-512 FMA loop on 2 threads) in the same run.
"""
import argparse
import os
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
import torch  # noqa: E402

# name, batch, C, H (= W), O, kernel, stride, pad
LAYERS = [
    ("conv3x3_56", 8, 64, 56, 64, 3, 1, 1),
    ("conv3x3_56", 1, 64, 56, 64, 3, 1, 1),
    ("conv3x3_28", 1, 128, 28, 128, 3, 1, 1),
    ("conv3x3_14", 1, 256, 14, 256, 3, 1, 1),
    ("conv3x3_7", 1, 512, 7, 512, 3, 1, 1),
    ("conv1x1_64_256", 1, 64, 56, 256, 1, 1, 0),
    ("conv1x1_256_64", 1, 256, 56, 64, 1, 1, 0),
    ("conv3x3_s2", 1, 64, 56, 128, 3, 2, 1),
    ("conv1x1_s2", 1, 64, 56, 128, 1, 2, 0),
    ("conv7x7_stem", 1, 3, 224, 64, 7, 2, 3),
]


def gflop(n, c, h, o, k, s, p):
    out = (h + 2 * p - k) // s + 1
    return 2.0 * n * out * out * o * c * k * k / 1e9


def torch_ms(n, c, h, o, k, s, p, channels_last, calls):
    conv = torch.nn.Conv2d(c, o, k, stride=s, padding=p)
    x = torch.rand(n, c, h, h)
    if channels_last:
        conv = conv.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    times = []
    with torch.no_grad():
        for i in range(calls + 3):
            start = time.perf_counter()
            conv(x)
            if i >= 3:
                times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def kiln_ms(binary, name, n, calls):
    out = subprocess.run([binary, "--layer", name, "--batch", str(n), "--calls", str(calls)],
                         check=True, capture_output=True, text=True).stdout
    words = out.split()
    return float(words[words.index("kiln_ms") + 1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    a = argparse.ArgumentParser()
    a.add_argument("--kiln", default=os.path.join(here, "..", "build", "bin", "bench_conv_layer"))
    a.add_argument("--rounds", type=int, default=3)
    a.add_argument("--calls", type=int, default=20)
    a.add_argument("--only", default=None)
    args = a.parse_args()
    torch.set_num_threads(2)
    peak_out = subprocess.run([args.kiln, "--peak"], check=True, capture_output=True, text=True).stdout
    peak = max(float(line.split()[1]) for line in peak_out.splitlines())
    print(f"fp32 peak (2 threads, AVX-512 FMA loop): {peak:.0f} GFLOP/s; torch {torch.__version__}, 2 threads")
    print(f"{'layer':16} {'N':>2} {'kiln ms':>8} {'GFLOP/s':>8} {'peak':>5} {'torch ms':>9} "
          f"{'(nchw':>7} {'nhwc)':>7} {'GFLOP/s':>8} {'torch/kiln':>10}")
    for name, n, c, h, o, k, s, p in LAYERS:
        if args.only and name != args.only:
            continue
        kiln, nchw, nhwc = [], [], []
        for _ in range(args.rounds):
            kiln.append(kiln_ms(args.kiln, name, n, args.calls))
            nchw.append(torch_ms(n, c, h, o, k, s, p, False, args.calls))
            nhwc.append(torch_ms(n, c, h, o, k, s, p, True, args.calls))
        km, tc, tl = min(kiln), min(nchw), min(nhwc)
        tm = min(tc, tl)
        g = gflop(n, c, h, o, k, s, p)
        print(f"{name:16} {n:2} {km:8.3f} {g / km * 1e3:8.1f} {g / km * 1e3 / peak:5.0%} {tm:9.3f} "
              f"{tc:7.3f} {tl:7.3f} {g / tm * 1e3:8.1f} {tm / km:9.2f}x", flush=True)


if __name__ == "__main__":
    sys.exit(main())
