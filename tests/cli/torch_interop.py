"""kiln against PyTorch on nine models: forward output, loss and every gradient.

    /usr/bin/python3 tests/cli/torch_interop.py path/to/kiln

The models, each with its PyTorch twin in tests/fixtures/:
  lenet5                  lenet5_torch.py
  dilated_grouped_maxout  dilated_grouped_maxout_torch.py: dilated, grouped, depthwise and
                          bias-free convs, maxout over channels and features
  char_lstm               char_lstm_torch.py: embedding, nn.LSTM, a linear layer at every
                          step, token ids in, from a given (h0, c0), the state after out
  fcn_shapes              fcn_shapes_torch.py: nn.ConvTranspose2d, concatenated skips,
                          per-pixel cross-entropy
  yolo_shapes             yolo_shapes_torch.py: a detection head's target_loss (BCE and
                          squared error per channel, weighted, against float targets)
  two_heads               two_heads_torch.py: heads(...), an image head and a flat head
                          with a target_loss each, their outputs joined
  two_stage               two_stage_torch.py: roi_align and roi_pool (torchvision's) of a region list
                          given with the batch, a head per region beside a dense head
  stn_mnist               stn_mnist_torch.py: a spatial transformer (F.affine_grid,
                          F.grid_sample), and its resampled image ('attention')
  captioner               captioner_torch.py: soft attention inside an LSTM cell over a
                          conv grid, words given with the batch, every step's attention
For each model, seed and batch size (a fixture may name its own BATCHES), the fixture
writes PyTorch's weights (state_dict names), inputs and a float64 reference; `kiln
forward` and `kiln gradients` run on the same files, and every element is compared. The
error of a tensor is max |kiln - torch| / max |torch|; it must be <= 1e-4 for each (kiln
computes in float32, about 1e-6 here), or the fixture's own TOLERANCE where it says why.
`--target opencl` (or cuda) checks that build instead of the CPU's, `--only MODEL...` those
models only. Prints OK / NOT OK per tensor; exits 1 if any is NOT OK, or if this python cannot import
torch (CI installs python3-torch: a missing torch is a failure, not a skip).
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
SEEDS = (1, 2)
BATCHES = (1, 5, 64)
TOLERANCE = 1e-4

try:
    import torch
except ImportError as error:
    print(f"NOT OK: {sys.executable} cannot import torch ({error}); install Debian's "
          "python3-torch (apt-get install python3-torch) or set KILN_TORCH_PYTHON",
          flush=True)
    sys.exit(1)

sys.path.insert(0, FIXTURES)
import captioner_torch  # noqa: E402
import char_lstm_torch  # noqa: E402
import dilated_grouped_maxout_torch  # noqa: E402
import fcn_shapes_torch  # noqa: E402
import lenet5_torch  # noqa: E402
import safetensors_io  # noqa: E402
import stn_mnist_torch  # noqa: E402
import two_heads_torch  # noqa: E402
import two_stage_torch  # noqa: E402
import yolo_shapes_torch  # noqa: E402


def run_kiln(kiln, *args):
    result = subprocess.run([kiln, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kiln {' '.join(args)} exited with {result.returncode}: "
                           f"{result.stderr.strip()}")


def relative_error(got, want):
    """max |got - want| / max |want|, in float64; inf when the shapes differ."""
    if tuple(got.shape) != tuple(want.shape):
        return float("inf")
    got, want = got.double(), want.double()
    scale = want.abs().max().item()
    return (got - want).abs().max().item() / scale if scale > 0 else (got - want).abs().max().item()


# kiln's model name and the module that writes its PyTorch twin's fixtures.
MODELS = (("lenet5", lenet5_torch), ("dilated_grouped_maxout", dilated_grouped_maxout_torch),
          ("char_lstm", char_lstm_torch), ("fcn_shapes", fcn_shapes_torch),
          ("yolo_shapes", yolo_shapes_torch), ("two_heads", two_heads_torch),
          ("two_stage", two_stage_torch), ("stn_mnist", stn_mnist_torch), ("captioner", captioner_torch))


def check_case(kiln, workdir, model, fixture, seed, batch, target):
    """Returns the number of tensors that are NOT OK for one model, seed and batch size,
    kiln running its build for `target` (cpu, opencl or cuda)."""
    case = os.path.join(workdir, f"{model}_seed{seed}_batch{batch}")
    fixture.write_fixtures(case, seed, batch)
    weights, inputs = (os.path.join(case, f) for f in ("weights.safetensors", "inputs.safetensors"))
    forward, gradients = (os.path.join(case, f) for f in ("forward.safetensors", "gradients.safetensors"))
    expected = safetensors_io.load(os.path.join(case, "expected.safetensors"))
    try:
        for entry, out in (("forward", forward), ("gradients", gradients)):
            run_kiln(kiln, entry, model, "--weights", weights, "--inputs", inputs, "--out", out,
                     "--target", target)
    except RuntimeError as error:
        print(f"NOT OK {model} seed {seed} batch {batch}: {error}")
        return 1
    got = safetensors_io.load(forward)
    got.update(safetensors_io.load(gradients))
    failures = 0
    for name in sorted(expected):
        if name not in got:
            print(f"NOT OK {model} seed {seed} batch {batch:>2} {name:<18} missing from kiln's output")
            failures += 1
            continue
        error = relative_error(got[name], expected[name])
        ok = error <= getattr(fixture, "TOLERANCE", TOLERANCE)
        failures += not ok
        print(f"{'OK    ' if ok else 'NOT OK'} {model} seed {seed} batch {batch:>2} {name:<18} "
              f"shape {list(expected[name].shape)!s:<16} relative error {error:.2e}")
    return failures


def main():
    parser = argparse.ArgumentParser(description="kiln against PyTorch on the fixtures' models")
    parser.add_argument("kiln", help="path to the kiln program")
    parser.add_argument("--target", default="cpu", help="the builds kiln runs: cpu, opencl or cuda")
    parser.add_argument("--only", nargs="+", metavar="MODEL", help="these models only")
    args = parser.parse_args()
    kiln = os.path.abspath(args.kiln)
    unknown = set(args.only or ()) - {model for model, _ in MODELS}
    if unknown:
        sys.exit(f"torch_interop.py: unknown model {', '.join(sorted(unknown))}")
    print(f"torch {torch.__version__} from {sys.executable}; kiln {kiln} on {args.target}; "
          f"tolerance {TOLERANCE:g}")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="kiln-torch-interop-") as workdir:
        for model, fixture in MODELS:
            if args.only and model not in args.only:
                continue
            for seed in SEEDS:
                for batch in getattr(fixture, "BATCHES", BATCHES):
                    failures += check_case(kiln, workdir, model, fixture, seed, batch, args.target)
    print(f"{'all OK' if failures == 0 else f'{failures} NOT OK'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
