#!/usr/bin/python3
"""Scene FCN training step (models/fcn.hpp, fcn_shapes): kiln against PyTorch in one run.

    /usr/bin/python3 bench/fcn_train_step.py [--kiln build/bin/bench_fcn_train_step] [--steps 10] [--rounds 3]

Model: the U-Net-shaped FCN of tests/fixtures/fcn_shapes_torch.py, images 3 x 128 x 128,
per-pixel cross-entropy over 4 classes (labels [N, 128, 128]), Adam, batch 16. A step is
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
from fcn_inference import GFLOP_PER_IMAGE  # noqa: E402
from same_run import torch_step_ms, train_step_main  # noqa: E402

# Forward, input gradients and weight gradients: about 3 forward passes.
GFLOP_PER_STEP = 3 * GFLOP_PER_IMAGE * BATCH


def torch_worker(layout, steps):
    """Runs inside a fresh python: the median ms per step."""
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
    import fcn_shapes_torch
    torch.manual_seed(0)
    y = torch.randint(0, 4, (BATCH, 128, 128))
    return torch_step_ms(fcn_shapes_torch.FcnShapes(), torch.rand(BATCH, 3, 128, 128),
                         lambda out: F.cross_entropy(out, y), layout, steps)


if __name__ == "__main__":
    sys.exit(train_step_main(__file__, "bench_fcn_train_step",
                             f"FCN train_step (fcn_shapes, batch {BATCH}, 3 x 128 x 128, per-pixel "
                             "cross-entropy, Adam)", GFLOP_PER_STEP, torch_worker))
