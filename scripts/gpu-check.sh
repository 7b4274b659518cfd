#!/usr/bin/env bash
# The GPU check, for a machine with a GPU but no Node and no package registry: everything comes from the bundle
# that scripts/prepare-gpu-check.sh made (.gpu-bundle/gpu-check.tar.xz, kept out of git). Run from the repository
# root:   scripts/gpu-check.sh OUT_DIR
# It prints nvidia-smi, the Vulkan ICDs and Dawn's adapters (harness doctor), runs the WebGPU parity checks
# (harness doctor --parity), `harness bench engine` (tuned wasm and WebGPU in the same run) and a few paper-60m
# training steps on WebGPU, and writes the ledger (SQLite and a JSON Lines export) and the logs to OUT_DIR.
# Each stage runs even when an earlier one failed; the exit status is 1 when any failed.
# Environment: GPU_CHECK_BUNDLE (default .gpu-bundle/gpu-check.tar.xz); GPU_CHECK_STEPS (paper-60m steps,
# default 3); GPU_CHECK_BATCH and GPU_CHECK_LENGTH (paper-60m batch and training length, default the suite's
# 32 x 512; smaller ones make the check finish on a software adapter).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/gpu-check.sh OUT_DIR}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
bundle="${GPU_CHECK_BUNDLE:-.gpu-bundle/gpu-check.tar.xz}"
steps="${GPU_CHECK_STEPS:-3}"
run=.gpu-run # inside the repository: the harness finds suites/ and package.json above its bundle
failed=0
stage() { echo; echo "== $*"; }
check() { "$@" || { echo "FAILED ($?): $*"; failed=1; }; }
logged() { # logged FILE COMMAND...: run, show and keep its output; a failure marks the check failed
  local file=$1; shift
  "$@" 2>&1 | tee "$file"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "FAILED ($rc): $*"; failed=1; }
}

[ -f "$bundle" ] || { echo "no bundle at $bundle: run scripts/prepare-gpu-check.sh where Node and npm are"; exit 1; }
rm -rf "$run" && mkdir -p "$run"
tar -C "$run" -xJf "$bundle" || { echo "cannot unpack $bundle (xz)"; exit 1; }
node="$PWD/$run/node"
harness() { "$node" "$PWD/$run/app/harness.mjs" "$@"; }

stage "machine"
uname -a
"$node" --version
if command -v nvidia-smi >/dev/null; then nvidia-smi; else echo "nvidia-smi: not found"; fi

stage "Vulkan and EGL loaders"
# Debian's loader packages, only where the image lacks the library: unpacked beside the run (never into /, so the
# machine is left as it was) and found through LD_LIBRARY_PATH
for lib in libvulkan.so.1 libEGL.so.1; do
  if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
    echo "$lib missing: unpacking the carried Debian packages into $run/sysroot"
    mkdir -p "$run/sysroot"
    for deb in "$run"/debs/*.deb; do dpkg -x "$deb" "$run/sysroot"; done
    export LD_LIBRARY_PATH="$PWD/$run/sysroot/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    break
  fi
done
# the NVIDIA driver's ICD and EGL vendor files, where a container mounts them outside the standard folders
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null || true)
if [ -z "$icds" ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] \
  && [ ! -d /usr/share/glvnd/egl_vendor.d ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
echo "Vulkan ICDs: ${VK_DRIVER_FILES:-${icds:-none}}"
for f in ${VK_DRIVER_FILES:-$icds}; do echo "--- $f"; cat "$f" 2>/dev/null; done
export EGL_PLATFORM="${EGL_PLATFORM:-surfaceless}"

stage "harness doctor --parity (backends, Dawn's adapters, WebGPU against the cpu backend)"
logged "$out/doctor.txt" harness doctor --parity
harness doctor --json > "$out/doctor.json" 2>/dev/null

stage "harness bench engine (tuned wasm and WebGPU, same run)"
logged "$out/bench.txt" harness bench engine --backends wasm-tuned-1t,webgpu --ledger "$out/gpu-check.db"

stage "paper-60m on WebGPU: $steps training steps"
# the paper's suite with only the steps and a short evaluation changed (60m scale, GPT-2 vocabulary, length 512)
"$node" -e '
  const fs = require("fs")
  const s = JSON.parse(fs.readFileSync("suites/paper-60m.json", "utf8"))
  const steps = Number(process.argv[1]), batch = process.argv[2], length = process.argv[3]
  Object.assign(s, { name: "gpu-check-60m", description: `paper-60m, ${steps} steps on WebGPU (scripts/gpu-check.sh)`, embeddings: ["rope"] })
  Object.assign(s.training, { steps, warmupSteps: 1, checkpointEvery: steps })
  if (batch !== "") s.training.batchSize = Number(batch)
  if (length !== "") s.training.length = Number(length)
  Object.assign(s.evaluation, { lengthMultiples: [1], tasks: ["perplexity"], maxWindows: 1 })
  delete s.$schema
  fs.writeFileSync(process.argv[4], JSON.stringify(s, null, 2))
' "$steps" "${GPU_CHECK_BATCH:-}" "${GPU_CHECK_LENGTH:-}" "$run/gpu-check-60m.json"
# --force-scale: on a software adapter the 60m scale is refused as too slow; the check wants a few steps anyway
logged "$out/paper-60m.txt" harness run "$run/gpu-check-60m.json" --backend webgpu --force-scale --ledger "$out/gpu-check.db" --checkpoints "$run/checkpoints"

stage "ledger export"
check harness ledger verify --ledger "$out/gpu-check.db"
check harness ledger export --ledger "$out/gpu-check.db" --format jsonl --out "$out/gpu-check.jsonl"
ls -la "$out"
[ "$failed" = 0 ] && echo "gpu-check: every stage ran" || echo "gpu-check: a stage FAILED (above)"
exit "$failed"
