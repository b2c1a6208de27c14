#!/usr/bin/python3
"""The CNN zoo against PyTorch in one run (issue 3's table).

    /usr/bin/python3 bench/cnn_zoo.py [--rounds 3] [--calls 5] [--bin build/bin]
                                      [--only MODEL:ENTRY:BATCH ...]

Workloads, float32: a 3x3 conv (N=8, 64->64 channels, 56x56, pad 1); ResNet-18 inference
at batch 1 and 8; ResNet-50 inference at batch 1; a ResNet-18 training step at batch 8
(forward, loss, backward and an SGD-with-momentum update). Needs a build configured with
-DKILN_BENCH_CONV_LAYERS=ON (the conv row) and -DKILN_BUILD_ZOO_TRAINING=ON (the
training row); a row whose kiln binary or entry is missing is reported and skipped.

Each round runs kiln's side (bench_conv_layer or bench_cnn_zoo) and PyTorch's side (this
script with --torch-worker) as separate processes, so that each reports its own peak
resident memory. PyTorch: Debian's python3-torch and torchvision, 2 threads, oneDNN,
OPENBLAS_CORETYPE=SkylakeX, inference under torch.inference_mode() in eval mode, timed in
NCHW and in channels_last; its better format counts. kiln's networks take NCHW; its conv
row's one-conv entry is built channels-last in and out (IO_LAYOUT nhwc), as PyTorch's
channels_last tensors. Each side is reported at its best
round (a shared machine only ever slows a round down), and the ratio PyTorch / kiln
(> 1: kiln is faster) is taken between the bests. GFLOP/s count a multiply-add as 2;
a training step counts 3 x the forward's multiply-adds (forward, input gradients, weight
gradients). The peak is an AVX-512 FMA loop on 2 threads, measured in the same run.
"""
import argparse
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")

# Multiply-adds per image (torchvision's published GFLOPS figures are multiply-adds).
GMACS = {"resnet18": 1.814, "resnet50": 4.089, "conv3x3": 56 * 56 * 64 * 64 * 9 / 1e9}
# label, model, entry, batch
ROWS = [
    ("3x3 conv 64->64 56x56", "conv3x3", "forward", 8),
    ("ResNet-18 inference", "resnet18", "forward", 1),
    ("ResNet-18 inference", "resnet18", "forward", 8),
    ("ResNet-50 inference", "resnet50", "forward", 1),
    ("ResNet-18 train step", "resnet18", "train_step", 8),
]


def gflop(model, entry, batch):
    return 2 * GMACS[model] * batch * (3 if entry == "train_step" else 1)


def torch_worker(model_name, entry, batch, calls):
    """Times one workload in this process; prints torch_ms and torch_peak_rss_mb."""
    import torch
    import torchvision
    torch.set_num_threads(2)
    torch.manual_seed(0)
    if model_name == "conv3x3":
        model = torch.nn.Conv2d(64, 64, 3, padding=1)
        x = torch.rand(batch, 64, 56, 56)
    else:
        model = getattr(torchvision.models, model_name)(weights=None)
        x = torch.randn(batch, 3, 224, 224)
    labels = torch.arange(batch) * 7 % 1000
    best = float("inf")
    for fmt in (torch.contiguous_format, torch.channels_last):
        m = model.to(memory_format=fmt)
        xi = x.contiguous(memory_format=fmt)
        if entry == "train_step":
            m.train()
            opt = torch.optim.SGD(m.parameters(), lr=1e-4, momentum=0.9)

            def call():
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(m(xi), labels).backward()
                opt.step()
        else:
            m.eval()

            def call():
                with torch.inference_mode():
                    m(xi)
        times = []
        for c in range(calls + 2):
            start = time.perf_counter()
            call()
            if c >= 2:
                times.append((time.perf_counter() - start) * 1e3)
        times.sort()
        best = min(best, times[len(times) // 2])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch_ms {best:.3f} torch_peak_rss_mb {rss:.0f}")


def value(words, key):
    return float(words[words.index(key) + 1])


def run_kiln(bin_dir, model, entry, batch, calls):
    """(ms, peak RSS MB) of kiln's side, or (None, reason) when it cannot run."""
    if model == "conv3x3":
        cmd = [os.path.join(bin_dir, "bench_conv_layer"), "--layer", "conv3x3_56"]
        missing = "bench_conv_layer not built (cmake -DKILN_BENCH_CONV_LAYERS=ON)"
    else:
        cmd = [os.path.join(bin_dir, "bench_cnn_zoo"), "--model", model, "--entry", entry]
        missing = "bench_cnn_zoo not built"
    if not os.path.exists(cmd[0]):
        return None, missing
    r = subprocess.run(cmd + ["--batch", str(batch), "--calls", str(calls)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip() or f"exit {r.returncode}"
    words = r.stdout.split()
    return value(words, "kiln_ms"), value(words, "kiln_peak_rss_mb")


def run_torch(model, entry, batch, calls):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker",
                          model, entry, str(batch), "--calls", str(calls)],
                         check=True, capture_output=True, text=True).stdout.split()
    return value(out, "torch_ms"), value(out, "torch_peak_rss_mb")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.path.join(here, "..", "build", "bin"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calls", type=int, default=5)
    p.add_argument("--torch-worker", nargs=3, metavar=("MODEL", "ENTRY", "BATCH"))
    p.add_argument("--only", action="append", metavar="MODEL:ENTRY:BATCH",
                   help="time only these rows, e.g. resnet18:forward:1 (repeatable)")
    args = p.parse_args()
    if args.torch_worker:
        model, entry, batch = args.torch_worker
        return torch_worker(model, entry, int(batch), args.calls)

    peak_bin = os.path.join(args.bin, "bench_cnn_zoo")
    peak = value(subprocess.run([peak_bin, "--peak"], check=True, capture_output=True,
                                text=True).stdout.split(), "peak_gflops")
    print(f"fp32 peak (2 threads, AVX-512 FMA loop): {peak:.0f} GFLOP/s; "
          f"{args.rounds} rounds of {args.calls} calls per side")
    print(f"{'workload':<24} {'N':>2} {'kiln ms':>9} {'GFLOP/s':>8} {'peak':>5} {'torch ms':>9} "
          f"{'GFLOP/s':>8} {'peak':>5} {'torch/kiln':>10} {'kiln MB':>8} {'torch MB':>8}")
    rows = [r for r in ROWS if not args.only or f"{r[1]}:{r[2]}:{r[3]}" in args.only]
    if not rows:
        p.error(f"--only: no row is {', '.join(args.only)} (rows: "
                f"{', '.join(f'{r[1]}:{r[2]}:{r[3]}' for r in ROWS)})")
    for label, model, entry, batch in rows:
        k_best = t_best = float("inf")
        k_rss = t_rss = 0.0
        skipped = None
        for _ in range(args.rounds):
            k, rss = run_kiln(args.bin, model, entry, batch, args.calls)
            if k is None:
                skipped = rss
                break
            k_best, k_rss = min(k_best, k), max(k_rss, rss)
            t, rss = run_torch(model, entry, batch, args.calls)
            t_best, t_rss = min(t_best, t), max(t_rss, rss)
        if skipped:
            print(f"{label:<24} {batch:2} skipped: {skipped}", flush=True)
            continue
        g = gflop(model, entry, batch)
        print(f"{label:<24} {batch:2} {k_best:9.2f} {g / k_best * 1e3:8.0f} "
              f"{g / k_best * 1e3 / peak:5.0%} {t_best:9.2f} {g / t_best * 1e3:8.0f} "
              f"{g / t_best * 1e3 / peak:5.0%} {t_best / k_best:9.2f}x {k_rss:8.0f} {t_rss:8.0f}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
