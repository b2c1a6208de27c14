#!/usr/bin/python3
"""Zoo inference: kiln's generated forward entries against torchvision, in one run.

    /usr/bin/python3 bench/zoo_inference.py [--kiln build/bin/bench_zoo_inference] [--rounds 3]

Workloads (issue 3): ResNet-18 at batch 1 and 8, ResNet-50 at batch 1, float32, 3x224x224.
PyTorch: Debian's python3-torch with torchvision's models in eval mode under
torch.inference_mode(), 2 threads, OPENBLAS_CORETYPE=SkylakeX, timed in both NCHW and
channels_last memory formats; its better one counts. kiln: a separate process per
workload (bench_zoo_inference), its own weights. Rounds alternate between the two; each
side is reported at its best round's median. Prints ms, GFLOP/s (multiply-adds x 2),
the ratio PyTorch / kiln (> 1: kiln is faster) and each side's peak resident memory.
"""
import argparse
import os
import resource
import subprocess
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
import torch  # noqa: E402
import torchvision  # noqa: E402

# Multiply-adds per image (torchvision's published GFLOPS figures are multiply-adds).
GMACS = {"resnet18": 1.814, "resnet50": 4.089}
WORKLOADS = (("resnet18", 1), ("resnet18", 8), ("resnet50", 1))


def torch_ms(name, batch, calls):
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(batch, 3, 224, 224)
    best = float("inf")
    for fmt in (torch.contiguous_format, torch.channels_last):
        m = model.to(memory_format=fmt)
        xi = x.contiguous(memory_format=fmt)
        times = []
        with torch.inference_mode():
            for c in range(calls + 2):
                start = time.perf_counter()
                m(xi)
                if c >= 2:
                    times.append((time.perf_counter() - start) * 1e3)
        times.sort()
        best = min(best, times[len(times) // 2])
    return best


def kiln_ms(binary, name, batch, calls):
    out = subprocess.run([binary, "--model", name, "--batch", str(batch), "--calls", str(calls)],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[out.index("kiln_ms") + 1]), float(out[out.index("kiln_peak_rss_mb") + 1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", default=os.path.join(here, "..", "build", "bin", "bench_zoo_inference"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calls", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, 2 threads; "
          f"{args.rounds} rounds of {args.calls} calls")
    rows = []
    for name, batch in WORKLOADS:
        k_best, t_best, k_rss = float("inf"), float("inf"), 0.0
        for _ in range(args.rounds):
            k, k_rss = kiln_ms(args.kiln, name, batch, args.calls)
            k_best = min(k_best, k)
            t_best = min(t_best, torch_ms(name, batch, args.calls))
        rows.append((name, batch, k_best, t_best, k_rss))
    torch_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'workload':<14} {'kiln ms':>9} {'GFLOP/s':>8} {'torch ms':>9} {'GFLOP/s':>8} "
          f"{'torch/kiln':>10} {'kiln RSS MB':>11}")
    for name, batch, k, t, rss in rows:
        flop = 2e9 * GMACS[name] * batch
        print(f"{name} b{batch:<5} {k:9.2f} {flop / k / 1e6:8.0f} {t:9.2f} {flop / t / 1e6:8.0f} "
              f"{t / k:10.2f}x {rss:11.0f}")
    print(f"PyTorch process peak RSS (all workloads): {torch_rss:.0f} MB")


if __name__ == "__main__":
    main()
