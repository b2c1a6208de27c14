#!/usr/bin/env bash
# The GPU check, on a GPU machine (H100/H200: CUDA driver, PyTorch with cuDNN, no Halide).
# Build here first (the CUDA code is generated on any machine):
#   cmake -S . -B build -G Ninja -DKILN_BUILD_ZOO_TRAINING=ON
#   cmake --build build --target test_models bench_gpu
# (the option adds ResNet-18's training entries, for its training-step row; without it
# that row says "not built")
# then carry build/bin to the GPU machine and run, from the repository root there:
#   bash bench/gpu/run.sh build/bin
# It checks every entry of the CUDA-built models against their CPU builds, times kiln
# against PyTorch (bench/gpu/gpu_check.py), then does the same through NVIDIA's OpenCL
# driver, which has no ICD file there: one is written to a temporary folder.
set -uo pipefail
bin=${1:-build/bin}
here=$(dirname "$0")
status=0
python3 "$here/gpu_check.py" --bin "$bin" --target cuda || status=1
nvidia_ocl=$(ldconfig -p | awk '/libnvidia-opencl.so.1/ {print $NF; exit}')
if [[ -n "$nvidia_ocl" ]]; then
  vendors=$(mktemp -d)
  echo "$nvidia_ocl" > "$vendors/nvidia.icd"
  OCL_ICD_VENDORS=$vendors python3 "$here/gpu_check.py" --bin "$bin" --target opencl || status=1
else
  echo "no libnvidia-opencl.so.1 on this machine: OpenCL on the GPU not checked"
fi
exit $status
