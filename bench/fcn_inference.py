#!/usr/bin/python3
"""Scene FCN inference (models/fcn.hpp, fcn_shapes): kiln against PyTorch in one run.

    /usr/bin/python3 bench/fcn_inference.py [--kiln build/bin/bench_fcn_inference] [--calls 20] [--rounds 3]

Model: the U-Net-shaped FCN of tests/fixtures/fcn_shapes_torch.py (twelve 3x3/1x1 convs,
three 2x2 stride-2 transposed convs, concatenated skips), images 3 x 128 x 128, logits
4 x 128 x 128, at batch 1 and 16. PyTorch runs eager under torch.inference_mode() with
torch.set_num_threads(2), with NCHW tensors, channels_last (oneDNN's preferred layout
for convs) and as a frozen TorchScript module optimized for inference, each in its own
python process, and the frozen module once per image of the batch; the fastest is "the
peer". 3 warm-up calls, then the median of --calls timed ones. Rounds alternate kiln and the
peers (bench/same_run.py): each side at its best round, and the ratio between the bests.
"""
import argparse
import os
import sys
import time

from same_run import compare

BATCHES = (1, 16)
# "frozen": TorchScript (traced) frozen and optimized for inference (convs and relus
# fused, oneDNN weight layouts prepacked), NCHW in.
# "frozen, per image": the same, called once per image of the batch (its batch-16 calls
# ran 5x slower per image than its batch-1 calls here).
LAYOUTS = ("nchw", "channels_last", "frozen", "frozen_per_image")
HERE = os.path.dirname(os.path.abspath(__file__))
# Multiply-adds of one image's forward pass, counted layer by layer from the model
# (convs: O C KH KW H W; transposed 2x2 stride 2: O C H_out W_out); 2 FLOP each.
GFLOP_PER_IMAGE = 2 * (
    128 * 128 * (16 * 3 * 9 + 16 * 16 * 9 + 16 * 32 * 9 + 4 * 16)
    + 64 * 64 * (32 * 16 * 9 + 32 * 32 * 9 + 32 * 64 * 9) + 128 * 128 * 16 * 32
    + 32 * 32 * (64 * 32 * 9 + 64 * 64 * 9 + 64 * 96 * 9) + 64 * 64 * 32 * 64
    + 16 * 16 * (64 * 64 * 9 * 2) + 32 * 32 * 32 * 64) / 1e9


def torch_worker(layout, batch, calls):
    """Runs inside a fresh python: prints the median ms per batch."""
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
    import fcn_shapes_torch
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = fcn_shapes_torch.FcnShapes().eval()
    x = torch.rand(batch, 3, 128, 128)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if layout.startswith("frozen"):
        one = x[:1] if layout == "frozen_per_image" else x
        model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, one)))
    run = (lambda: [model(x[i:i + 1]) for i in range(batch)]) if layout == "frozen_per_image" else (lambda: model(x))
    times = []
    with torch.inference_mode():
        for k in range(3 + calls):
            start = time.perf_counter()
            run()
            if k >= 3:
                times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    print(f"{times[len(times) // 2]:.4f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", default=os.path.join(HERE, "..", "build", "bin", "bench_fcn_inference"))
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--torch-worker", choices=LAYOUTS, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_worker:
        return torch_worker(a.torch_worker, a.batch, a.calls)
    if not os.access(a.kiln, os.X_OK):
        print(f"kiln: binary missing: {os.path.normpath(a.kiln)} "
              "(cmake --build build --target bench_fcn_inference)")
        return 1
    print(f"FCN inference (fcn_shapes, 3 x 128 x 128 -> 4 x 128 x 128), 2 threads; "
          f"{GFLOP_PER_IMAGE:.3f} GFLOP per image; median of {a.calls} calls per round")
    for batch in BATCHES:
        print(f"batch {batch}:")
        sizes = ["--batch", str(batch), "--calls", str(a.calls)]
        compare([a.kiln, *sizes],
                {layout: [sys.executable, os.path.abspath(__file__), "--torch-worker", layout, *sizes]
                 for layout in LAYOUTS},
                a.rounds, GFLOP_PER_IMAGE * batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
