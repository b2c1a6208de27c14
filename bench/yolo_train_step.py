#!/usr/bin/python3
"""YOLO-style detector training step (models/yolo.hpp, yolo_shapes): kiln against PyTorch
in one run.

    /usr/bin/python3 bench/yolo_train_step.py [--kiln build/bin/bench_yolo_train_step] [--steps 10] [--rounds 3]

Model: the detector of tests/fixtures/yolo_shapes_torch.py, images 3 x 128 x 128, a
24 x 16 x 16 head and its loss (BCE-with-logits and squared error per channel, weighted,
against targets [N, 2, 24, 16, 16], as kiln's target_loss), Adam, batch 16. A step is
zero_grad, forward, loss, backward, update. PyTorch runs eager with
torch.set_num_threads(2), with NCHW tensors and with channels_last (oneDNN's preferred
layout for convs), each in its own python process; the faster is "the peer". 2 warm-up
steps, then the median of --steps timed ones. Rounds alternate kiln and the peers
(bench/same_run.py): each side at its best round, and the ratio between the bests.
"""
import argparse
import os
import sys
import time

BATCH = 16
LAYOUTS = ("nchw", "channels_last")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from same_run import compare  # noqa: E402

# Multiply-adds of the convs per image, twice: 0.17 GFLOP.
GFLOP_PER_IMAGE = 2 * (128 * 128 * 16 * 27 + 64 * 64 * 32 * 144 + 32 * 32 * 64 * 288 +
                       2 * 16 * 16 * 64 * 576 + 16 * 16 * 128 * 576 + 16 * 16 * 24 * 128) / 1e9

# Forward, input gradients and weight gradients: about 3 forward passes.
GFLOP_PER_STEP = 3 * GFLOP_PER_IMAGE * BATCH


def torch_worker(layout, steps):
    """Runs inside a fresh python: prints the median ms per step."""
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
    import yolo_shapes_torch
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = yolo_shapes_torch.YoloShapes()
    x = torch.rand(BATCH, 3, 128, 128)
    y = torch.rand(BATCH, 2, 24, 16, 16)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    times = []
    for k in range(2 + steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        yolo_shapes_torch.yolo_loss(model(x), y).backward()
        opt.step()
        if k >= 2:
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    print(f"{times[len(times) // 2]:.4f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", default=os.path.join(HERE, "..", "build", "bin", "bench_yolo_train_step"))
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--torch-worker", choices=LAYOUTS, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_worker:
        return torch_worker(a.torch_worker, a.steps)
    if not os.access(a.kiln, os.X_OK):
        print(f"kiln: binary missing: {os.path.normpath(a.kiln)} "
              "(cmake --build build --target bench_yolo_train_step)")
        return 1
    print(f"YOLO train_step (yolo_shapes, batch {BATCH}, 3 x 128 x 128, 24 x 16 x 16 head, target loss, Adam), "
          f"2 threads; about {GFLOP_PER_STEP:.1f} GFLOP per step; median of {a.steps} steps per round")
    compare([a.kiln, "--batch", str(BATCH), "--steps", str(a.steps)],
            {layout: [sys.executable, os.path.abspath(__file__), "--torch-worker", layout, "--steps", str(a.steps)]
             for layout in LAYOUTS},
            a.rounds, GFLOP_PER_STEP, "ms/step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
