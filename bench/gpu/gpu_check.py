#!/usr/bin/python3
"""The GPU check (issue 4): correctness of kiln's CUDA (and NVIDIA OpenCL) builds, then
kiln against PyTorch/cuDNN in the same run. Run on the GPU machine by bench/gpu/run.sh,
from a build made here (no Halide there).

    python3 bench/gpu/gpu_check.py --bin BUILD/bin [--target cuda|opencl] [--rounds 3]
    python3 bench/gpu/gpu_check.py --bin BUILD/bin --target opencl --no-torch --smoke   (no GPU: PoCL)

Workloads, float32, TF32 off on PyTorch's side: a 3x3 conv (N=32, 64 -> 64, 56x56, pad 1,
forward; cuDNN's best of NCHW and channels_last, benchmark mode), a LeNet-5 training step
(batch 256, SGD with momentum) and a ResNet-18 training step (batch 64; kiln's CUDA
build of it is not made yet, so that row shows PyTorch alone). kiln's side is
bench_gpu, which keeps every buffer on the device; both sides synchronize once per
round of calls. Each side's best round counts; the ratio is PyTorch / kiln (> 1: kiln
is faster).
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures"))


def torch_ms(workload, batch, calls, rounds):
    import torch
    import torch.nn.functional as F
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    torch.manual_seed(0)
    if workload == "conv3x3":
        best = float("inf")
        for fmt in (torch.contiguous_format, torch.channels_last):
            conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(dev, memory_format=fmt)
            x = torch.rand(batch, 64, 56, 56, device=dev).contiguous(memory_format=fmt)
            with torch.inference_mode():
                best = min(best, timed(lambda: conv(x), calls, rounds))
        return best
    if workload == "lenet5_step":
        from lenet5_torch import LeNet5
        model = LeNet5().to(dev)
        x = torch.rand(batch, 1, 28, 28, device=dev)
    else:
        import torchvision
        model = torchvision.models.resnet18(weights=None).to(dev)
        x = torch.randn(batch, 3, 224, 224, device=dev)
    y = torch.arange(batch, device=dev) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return timed(step, calls, rounds)


def timed(call, calls, rounds):
    import torch
    for _ in range(calls):  # warm-up (cuDNN's algorithm search)
        call()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - start) * 1e3 / calls)
    return best


def kiln_ms(binary, target, workload, batch, calls, rounds):
    """kiln's best of rounds, or None (its error printed) where the build lacks the entry."""
    best = float("inf")
    for _ in range(rounds):
        run = subprocess.run([binary, "--target", target, "--workload", workload, "--batch", str(batch),
                              "--calls", str(calls)], capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr.strip(), flush=True)
            return None
        best = min(best, float(run.stdout.split()[-1]))
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--target", default="cuda")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-torch", action="store_true", help="kiln's side only (no CUDA PyTorch here)")
    p.add_argument("--smoke", action="store_true",
                   help="batch 2, 2 calls, 1 round: the script's own check on a machine without a GPU "
                        "(--target opencl --no-torch, through PoCL)")
    args = p.parse_args()
    if args.smoke:
        args.rounds = 1
    # Correctness first: every entry of the GPU-built models against their CPU builds.
    tag = "[cuda]" if args.target == "cuda" else "[opencl]"
    check = subprocess.run([os.path.join(args.bin, "test_models"), tag])
    print(f"correctness {tag}: {'passed' if check.returncode == 0 else 'FAILED'}", flush=True)
    rows = [("3x3 conv 64->64 56x56", "conv3x3", 32, 2 * 32 * 56 * 56 * 64 * 64 * 9),
            ("LeNet-5 train step", "lenet5_step", 256, None),
            ("ResNet-18 train step", "resnet18_step", 64, None)]
    print(f"{'workload':24} {'N':>4} {'kiln ms':>9} {'torch ms':>9} {'torch/kiln':>10}")
    for label, workload, batch, flop in rows:
        calls = 20 if workload == "resnet18_step" else 50
        if args.smoke:
            batch, calls, flop = 2, 2, flop and flop // 16
        k = kiln_ms(os.path.join(args.bin, "bench_gpu"), args.target, workload, batch, calls, args.rounds)
        t = None if args.no_torch else torch_ms(workload, batch, calls, args.rounds)
        ks = f"{k:9.3f}" if k is not None else f"{'not built':>9}"
        ts = f"{t:9.3f}" if t is not None else f"{'-':>9}"
        ratio = f"{t / k:9.2f}x" if k is not None and t is not None else f"{'-':>10}"
        extra = f"  kiln {flop / k / 1e9:.0f} GFLOP/s" if flop and k else ""
        print(f"{label:24} {batch:4} {ks} {ts} {ratio}{extra}", flush=True)
    return check.returncode


if __name__ == "__main__":
    sys.exit(main())
