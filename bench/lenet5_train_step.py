#!/usr/bin/python3
"""LeNet-5 training step, batch 64, SGD with momentum: kiln against PyTorch in one run.

    /usr/bin/python3 bench/lenet5_train_step.py [--kiln build/bin/bench_lenet5_train_step]

Alternates rounds of kiln (a separate process, generated code) and PyTorch (2 threads,
its faster setting here, with OpenBLAS told the CPU type so that it uses its AVX-512
kernels). Each round gives a median per-step time; each side is reported at its best
round, since on a shared machine a round is only ever slowed down, and the ratio
PyTorch / kiln (> 1: kiln is faster) is taken between the two bests.
"""
import argparse
import os
import subprocess
import sys
import time

# Set before torch (and its OpenBLAS) loads: Debian's OpenBLAS 0.3.21 does not
# recognise this CPU and would run a generic kernel.
os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# The same PyTorch twin the interop tests check kiln against.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from lenet5_torch import LeNet5  # noqa: E402


def torch_ms_per_step(batch, steps):
    torch.manual_seed(0)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch, 1, 28, 28)
    y = torch.arange(batch) % 10
    times = []
    for s in range(steps + 20):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if s >= 20:
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def kiln_ms_per_step(binary, batch, steps):
    out = subprocess.run([binary, "--batch", str(batch), "--steps", str(steps)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", default=os.path.join(here, "..", "build", "bin", "bench_lenet5_train_step"))
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(2)
    kiln, peer = [], []
    for _ in range(a.rounds):
        kiln.append(kiln_ms_per_step(a.kiln, a.batch, a.steps))
        peer.append(torch_ms_per_step(a.batch, a.steps))
    k, t = min(kiln), min(peer)
    # Per sample: forward 0.833 MFLOP (2 x 416,520 multiply-adds), weight gradients the
    # same, input gradients the same less conv1's (0.235): 2.264 MFLOP per sample.
    gflop = 2.264e-3 * a.batch
    print(f"LeNet-5 train_step, batch {a.batch}, SGD momentum, 2 threads")
    print(f"  kiln     {k:8.3f} ms/step  ({gflop / k * 1e3:6.1f} GFLOP/s)   rounds: {', '.join(f'{v:.3f}' for v in kiln)}")
    print(f"  PyTorch  {t:8.3f} ms/step  ({gflop / t * 1e3:6.1f} GFLOP/s)   rounds: {', '.join(f'{v:.3f}' for v in peer)}")
    print(f"  ratio (PyTorch / kiln): {t / k:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
