#!/usr/bin/env bash
# Installs what kiln needs on Debian 12 (run as root). Safe to run again.
#   Halide 14 + LLVM 14   the compiler kiln lowers models to, and its autoscheduler plugins
#   fmt                   formatting of every message and report
#   Catch2 v2             the test framework
#   libpng                PNG files (kiln predict, data/mnist)
#   python3-torch         the peer in bench/ and the oracle of the interop tests
#   libopenblas0-pthread  the BLAS under PyTorch (else Debian's reference BLAS, ~10x slower)
#   python3-torchvision   the zoo's twins (ResNet, AlexNet, VGG) in tests/cli/torch_zoo.py
#   pocl-opencl-icd       an OpenCL device on the CPU, so the tests run the OpenCL builds
#   g++-aarch64-linux-gnu, qemu-user   the arm64 cross check: an arm64 program run under qemu
#   fortunes              the English text the character-level language models train on
set -euo pipefail
packages=(cmake ninja-build g++ libhalide14-0-dev llvm-14-dev libfmt-dev catch2
          libpng-dev zlib1g-dev python3-torch libopenblas0-pthread python3-torchvision python3-numpy pocl-opencl-icd
          g++-aarch64-linux-gnu qemu-user fortunes)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
