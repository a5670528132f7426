#!/usr/bin/env bash
# The GPU check of issue 7, in one call on a lent GPU machine (no Node.js or registry there; see scripts/gpu-kit.sh):
#   1. unpack the kit (node, pruned node_modules, a RAVDESS slice) and the Vulkan loaders;
#   2. the shipped speech and face graphs on WebGPU against the CPU provider (tests/integration/models-webgpu.test.ts);
#   3. the speech model's time per call at batch 1 .. 256 on WebGPU and on the CPU provider;
#   4. real-time capacity (p95 <= 100 ms, no dropped window, every result) on WebGPU, then the same search on the CPU
#      provider of the same machine, batching on and off, 4 server event loops, load from several generator processes.
# Writes logs and every run's JSON under $OUT (what the device tool brings back; at most 8 files, so they are tarred).
#
#   run(command="bash scripts/gpu-check.sh", carry=[".gpukit"], timeout_s=480)   (~6 min; leaves a rerun in 15 min)
# Knobs (environment): GPU_CHECK_ON / GPU_CHECK_OFF (session counts), GPU_CHECK_SECONDS (8), GPU_CHECK_PROVIDERS
# ("webgpu cpu"), GPU_CHECK_FEATURE_WORKERS (2 per event loop), GPU_CHECK_EVENT_LOOPS (4), GPU_CHECK_LOAD_PROCESSES (4), GPU_CHECK_DEADLINE_S (300: no new
# search starts after it), GPU_CHECK_SKIP_GL=1 (do not unpack the loaders: for a dry run on a development machine).
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
OUT="${OUT:-/tmp/gpu-check-out}"
mkdir -p "$OUT"
LOG="$OUT/gpu-check.log"
exec > >(tee -a "$LOG") 2>&1
say() { echo "[$(( $(date +%s) - START )) s] $*"; }

[[ -f .gpukit/kit.tar.xz ]] || { say "no .gpukit/kit.tar.xz: build it with scripts/gpu-kit.sh and carry .gpukit"; exit 2; }
if [[ -e node_modules && ! -L node_modules ]]; then
  say "node_modules exists here: run this from a fresh clone (the kit links its own node_modules)"; exit 2
fi

KIT_PARENT=/tmp/emostream-gpukit
rm -rf "$KIT_PARENT" && mkdir -p "$KIT_PARENT"
if command -v xz >/dev/null; then tar -C "$KIT_PARENT" -xJf .gpukit/kit.tar.xz
else python3 -c "import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" .gpukit/kit.tar.xz "$KIT_PARENT"; fi
KIT="$KIT_PARENT/kit"
ln -sfn "$KIT/node_modules" node_modules
export PATH="$KIT/bin:$PATH"
export EMOSTREAM_SHARED_DIR="$KIT/shared"
say "kit unpacked: node $(node --version), $(find "$KIT/shared" -name '*.wav' | wc -l) clips"

if [[ "${GPU_CHECK_SKIP_GL:-0}" != "1" ]]; then
  for f in .gpukit/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  if [[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
fi
{ nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv; } 2>&1 | tee "$OUT/nvidia-smi.txt" || true
nproc; free -g | head -2
node -e "const o=require('onnxruntime-node'); console.log('onnxruntime-node', o.env.versions?.node ?? '', 'backends', JSON.stringify(o.listSupportedBackends()))"

say "WebGPU parity (shipped speech + face graphs, batch 1/5/32, vs the CPU provider)"
node --import tsx --test tests/integration/models-webgpu.test.ts > "$OUT/webgpu-test.log" 2>&1
say "parity test exit $?: $(grep -E '^# (pass|fail|skipped)' "$OUT/webgpu-test.log" | tr '\n' ' ')"
grep -E "^# Subtest|skip|not ok" "$OUT/webgpu-test.log" | head -20

for provider in ${GPU_CHECK_PROVIDERS:-webgpu cpu}; do
  say "speech model per call on $provider, batch 1/8/32/128/256 (the per-call cost batching amortises)"
  node --import tsx bench/speech-latency.ts --provider "$provider" --batches 1,8,32,128,256 --out "$OUT/speech-latency-$provider.json" 2>&1 | tail -n 12
done

ON="${GPU_CHECK_ON:-256,512,768,1024}"
OFF="${GPU_CHECK_OFF:-128,256,512}"
SECONDS_PER_RUN="${GPU_CHECK_SECONDS:-8}"
FW="${GPU_CHECK_FEATURE_WORKERS:-2}"
LP="${GPU_CHECK_LOAD_PROCESSES:-4}"
EL="${GPU_CHECK_EVENT_LOOPS:-4}"
DEADLINE="${GPU_CHECK_DEADLINE_S:-300}"
for provider in ${GPU_CHECK_PROVIDERS:-webgpu cpu}; do
  if (( $(date +%s) - START > DEADLINE )); then say "deadline passed: no $provider search"; continue; fi
  say "capacity on $provider: batching on $ON, off $OFF, ${SECONDS_PER_RUN} s runs, $EL event loops x $FW feature workers, $LP load processes"
  node --import tsx bench/capacity.ts --on "$ON" --off "$OFF" --repeats 1 --seconds "$SECONDS_PER_RUN" --feature-workers "$FW" \
    --tag "gpu-check-$provider" --extra="--provider $provider --load-processes $LP --event-loops $EL" 2>&1 | grep -vE '^\s*$' | tail -n 40
done
say "done"
tar -C bench/results -czf "$OUT/gpu-check-results.tgz" $(ls -d bench/results/gpu-check-* 2>/dev/null | xargs -n1 basename) 2>/dev/null || true
ls -la "$OUT"
