#!/usr/bin/python3
"""Character-level LSTM language model, one training step: kiln against PyTorch in one run.

    /usr/bin/python3 bench/lstm_lm_step.py [--kiln build/bin/bench_lstm_lm_step] [--steps 30] [--rounds 3]

Model: Embedding(65, 64) -> LSTM(64, 256, one layer, batch_first) -> Linear(256, 65) at
every step; cross entropy over all N*T positions; batch 32, 50 steps of sequence; Adam
(lr 2e-3) after clip_grad_norm_(5.0). A step is zero_grad, forward, loss, backward,
clip, update; 10 warm-up steps, then the median of --steps timed ones.

PyTorch runs eager with torch.set_num_threads(2), each BLAS configuration of PEERS in its
own python process (OpenBLAS reads its variables when torch loads it); the fastest is
"the peer". Rounds alternate kiln (`BINARY --steps S`, the last token of its output is
ms/step) and the peers; each side is reported at its best round (on a shared machine a
round is only ever slowed down) and the ratio PyTorch / kiln (> 1: kiln faster) is taken
between the bests. Tried and not kept (no gain beyond noise here, PyTorch 1.13): Adam
foreach=True, torch.jit.script / torch.jit.trace of the model, mkldnn off (it does not
serve fp32 matrix products or the LSTM in 1.13). Debian's torch calls whatever
libblas.so.3 the alternatives choose; each peer line names the one it loaded, and a
warning says when it is not OpenBLAS (the reference BLAS is ~10x slower here).
"""
import argparse
import os
import subprocess
import sys
import time

V, E, H, N, T = 65, 64, 256, 32, 50
# (name, environment): None removes a variable. Debian's OpenBLAS 0.3.21 does not
# recognise this CPU and falls back to a generic kernel unless told SkylakeX; its own
# threads (one per core by default) compete with torch's 2 OpenMP threads: one OpenBLAS
# thread was 2-4x faster than the default in runs on 2026-11-28.
PEERS = [("OPENBLAS_CORETYPE unset", {"OPENBLAS_CORETYPE": None, "OPENBLAS_NUM_THREADS": None}),
         ("OPENBLAS_CORETYPE=SkylakeX", {"OPENBLAS_CORETYPE": "SkylakeX", "OPENBLAS_NUM_THREADS": None}),
         ("SkylakeX, OPENBLAS_NUM_THREADS=1", {"OPENBLAS_CORETYPE": "SkylakeX", "OPENBLAS_NUM_THREADS": "1"})]
# Multiply-adds of one forward pass: the LSTM's input product (N*T x E x 4H), its hidden
# product (N*T x H x 4H) and the output layer (N*T x H x V); the gates' elementwise work,
# the embedding and the loss are left out. Backward counted as twice the forward (input
# and weight gradients of every product), a multiply-add as 2 FLOP: 3 x 2 x MACs.
GFLOP = 3 * 2 * N * T * (E * 4 * H + H * 4 * H + H * V) / 1e9  # 3.305


def torch_worker(steps):
    """Runs inside a fresh python: prints 'median_ms blas_library'."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.lstm, self.out = nn.Embedding(V, E), nn.LSTM(E, H, batch_first=True), nn.Linear(H, V)

        def forward(self, x):
            return self.out(self.lstm(self.embed(x))[0])

    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = LM()
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=2e-3)
    x, y = torch.randint(0, V, (N, T)), torch.randint(0, V, (N, T))
    times = []
    for s in range(10 + steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        if s >= 10:
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    # The BLAS library torch loaded (Debian's libblas.so.3 may be the reference BLAS).
    libs = {line.split()[-1] for line in open("/proc/self/maps") if "blas" in os.path.basename(line.split()[-1])}
    blas = min(libs, key=lambda lib: "openblas" not in os.path.basename(lib), default="?")
    print(f"{times[len(times) // 2]:.4f} {blas}")


def torch_ms_per_step(env_changes, steps):
    env = {k: v for k, v in os.environ.items() if k not in env_changes}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker", "--steps", str(steps)],
                         env=env, check=True, capture_output=True, text=True).stdout.split()
    return float(out[-2]), out[-1]


def kiln_ms_per_step(binary, steps):
    out = subprocess.run([binary, "--steps", str(steps)], check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def line(name, times):
    best = min(times)
    return (f"  {name:42s} {best:9.3f} ms/step  ({GFLOP / best * 1e3:6.1f} GFLOP/s)   "
            f"rounds: {', '.join(f'{t:.3f}' for t in times)}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", default=os.path.join(here, "..", "build", "bin", "bench_lstm_lm_step"))
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_worker:
        return torch_worker(a.steps)
    have_kiln = os.access(a.kiln, os.X_OK)
    missing = f"kiln: binary missing: {os.path.normpath(a.kiln)} (cmake --build build --target bench_lstm_lm_step)"
    if not have_kiln:
        print(missing + "; timing PyTorch only", flush=True)
    kiln, peers, blas = [], {name: [] for name, _ in PEERS}, {}
    for _ in range(a.rounds):
        if have_kiln:
            kiln.append(kiln_ms_per_step(a.kiln, a.steps))
        for name, env in PEERS:
            ms, blas[name] = torch_ms_per_step(env, a.steps)
            peers[name].append(ms)
    print(f"LSTM LM train_step: Embedding({V},{E}) LSTM({E},{H}) Linear({H},{V}), batch {N}, "
          f"seq {T}, Adam, clip 5.0, 2 threads; {GFLOP:.3f} GFLOP/step; median of {a.steps} steps per round")
    for name, _ in PEERS:
        print(line("PyTorch, " + name, peers[name]) + f"   BLAS: {blas[name]}")
    if any("openblas" not in os.path.basename(b) for b in blas.values()):
        print("  warning: torch did not load OpenBLAS (reference BLAS?): OPENBLAS_* have no effect and the "
              "peer is not at its best; install libopenblas0-pthread")
    peer = min(peers, key=lambda name: min(peers[name]))
    print(f"  the peer: PyTorch, {peer}")
    if not have_kiln:
        print("  " + missing)
        return 1
    print(line("kiln", kiln))
    print(f"  ratio (PyTorch / kiln): {min(peers[peer]) / min(kiln):.2f}x")


if __name__ == "__main__":
    sys.exit(main())
