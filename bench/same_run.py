"""What the bench scripts share: time kiln and several peer configurations in alternating
rounds of one run, and report each at its best round with the ratio.

Each side is a command whose last output token is its time in ms. On a shared machine a
round is only ever slowed down, so each side is reported at its best round, and the
ratio PyTorch / kiln (> 1: kiln faster) is taken between the bests.
"""
import subprocess


def run_ms(command):
    """Runs `command` and returns the last token of its output, a time in ms."""
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[-1])


def compare(kiln_command, peer_commands, rounds, gflop, unit="ms"):
    """Rounds of kiln then each peer (a dict: name -> command); prints a line per side
    (best time, GFLOP/s for `gflop` GFLOP per call, every round) and the ratio against
    the fastest peer."""
    kiln, peers = [], {name: [] for name in peer_commands}
    for _ in range(rounds):
        kiln.append(run_ms(kiln_command))
        for name, command in peer_commands.items():
            peers[name].append(run_ms(command))

    def line(name, times):
        best = min(times)
        return (f"  {name:34s} {best:9.3f} {unit}  ({gflop / best * 1e3:6.1f} GFLOP/s)   "
                f"rounds: {', '.join(f'{t:.3f}' for t in times)}")

    for name, times in peers.items():
        print(line(f"PyTorch, {name}", times))
    print(line("kiln", kiln))
    peer = min(peers, key=lambda name: min(peers[name]))
    print(f"  ratio (PyTorch {peer} / kiln): {min(peers[peer]) / min(kiln):.2f}x")


LAYOUTS = ("nchw", "channels_last")


def torch_step_ms(model, x, loss_of, layout, steps):
    """The median ms of `steps` PyTorch training steps (zero_grad, forward, loss_of(output),
    backward, Adam) after 2 warm-up steps, with 2 threads, the model and input in `layout`."""
    import time
    import torch
    torch.set_num_threads(2)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    times = []
    for k in range(2 + steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_of(model(x)).backward()
        opt.step()
        if k >= 2:
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def train_step_main(script, binary, title, gflop_per_step, worker):
    """The command line of a training-step bench: --kiln, --steps, --rounds; kiln's binary
    against `worker(layout, steps)` (returns ms), each PyTorch layout in a fresh python
    running `script` with --torch-worker, in alternating rounds (compare)."""
    import argparse
    import os
    import sys
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", default=os.path.join(os.path.dirname(script), "..", "build", "bin", binary))
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--torch-worker", choices=LAYOUTS, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_worker:
        print(f"{worker(a.torch_worker, a.steps):.4f}")
        return 0
    if not os.access(a.kiln, os.X_OK):
        print(f"kiln: binary missing: {os.path.normpath(a.kiln)} (cmake --build build --target {binary})")
        return 1
    print(f"{title}, 2 threads; about {gflop_per_step:.1f} GFLOP per step; median of {a.steps} steps per round")
    compare([a.kiln, "--steps", str(a.steps)],
            {layout: [sys.executable, os.path.abspath(script), "--torch-worker", layout, "--steps", str(a.steps)]
             for layout in LAYOUTS},
            a.rounds, gflop_per_step, "ms/step")
    return 0
