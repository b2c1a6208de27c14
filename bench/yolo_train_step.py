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
import os
import sys

BATCH = 16
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from same_run import torch_step_ms, train_step_main  # noqa: E402

# Multiply-adds of the convs per image, twice: 0.17 GFLOP.
GFLOP_PER_IMAGE = 2 * (128 * 128 * 16 * 27 + 64 * 64 * 32 * 144 + 32 * 32 * 64 * 288 +
                       2 * 16 * 16 * 64 * 576 + 16 * 16 * 128 * 576 + 16 * 16 * 24 * 128) / 1e9

# Forward, input gradients and weight gradients: about 3 forward passes.
GFLOP_PER_STEP = 3 * GFLOP_PER_IMAGE * BATCH


def torch_worker(layout, steps):
    """Runs inside a fresh python: the median ms per step."""
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
    import yolo_shapes_torch
    torch.manual_seed(0)
    y = torch.rand(BATCH, 2, 24, 16, 16)
    return torch_step_ms(yolo_shapes_torch.YoloShapes(), torch.rand(BATCH, 3, 128, 128),
                         lambda out: yolo_shapes_torch.yolo_loss(out, y), layout, steps)


if __name__ == "__main__":
    sys.exit(train_step_main(__file__, "bench_yolo_train_step",
                             f"YOLO train_step (yolo_shapes, batch {BATCH}, 3 x 128 x 128, 24 x 16 x 16 "
                             "head, target loss, Adam)", GFLOP_PER_STEP, torch_worker))
