#!/usr/bin/env bash
# The GPU check, in ONE call of at most 8 minutes on a lent GPU machine (16 cores, one NVIDIA GPU, no Node.js, no
# registry, no internet; see scripts/gpu-kit.sh and docs/gpu.md):
#   1. unpack the kit (node, pruned node_modules, a RAVDESS slice) and the Vulkan loaders;
#   2. the shipped speech and face graphs on WebGPU against the CPU provider (tests/integration/models/webgpu.test.ts);
#   3. the speech model's time per call at batch 1, 32 and 256 on WebGPU and on the CPU provider;
#   4. a fixed session ladder (bench/ladder.ts) over server processes x provider: 4 and 8 processes
#      (server.processes), WebGPU and the CPU provider of the same host, 256/512/1024 sessions, 8 s runs after a 2 s
#      warm-up, load from 4 generator processes; all pairs at one rung before the next, so a run cut short by the
#      deadline still compares every pair; a pair stops after its first rung that is not real-time.
# Writes under $OUT (what the device tool brings back): gpu-check.log, nvidia-smi.txt, nvidia-smi-samples.csv (GPU
# utilisation and memory once a second during the ladder), ladder-summary.json/.md, speech-latency-*.json and
# gpu-check-results.tgz (every run's JSON and the parity test's log).
#
#   run(command="bash scripts/gpu-check.sh", carry=[".gpukit"], timeout_s=480)
# Knobs (environment): GPU_CHECK_PROVIDERS (webgpu,cpu), GPU_CHECK_PROCESSES (4,8), GPU_CHECK_SESSIONS (256,512,1024),
# GPU_CHECK_SECONDS (8), GPU_CHECK_WARMUP_S (2), GPU_CHECK_LOAD_PROCESSES (4), GPU_CHECK_DEADLINE_S (390: no ladder run
# starts after it, counted from the script's start; a run takes ~20-40 s, so the call ends before 8 minutes),
# GPU_CHECK_SPEECH_BATCHES (1,32,256; empty: skip step 3), GPU_CHECK_EXTRA (more bench/run.ts flags),
# GPU_CHECK_SKIP_GL=1 (do not unpack the loaders: for a dry run on a development machine), GPU_CHECK_SMOKE=1 (mark the
# summary as a smoke run).
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
OUT="${OUT:-/tmp/gpu-check-out}"
mkdir -p "$OUT"
LOG="$OUT/gpu-check.log"
exec > >(tee -a "$LOG") 2>&1
say() { echo "[$(( $(date +%s) - START )) s] $*"; }
SAMPLER=""
cleanup() { [[ -n "$SAMPLER" ]] && kill "$SAMPLER" 2>/dev/null; }
trap cleanup EXIT

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
{ nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv; } > "$OUT/nvidia-smi.txt" 2>&1 || true
cat "$OUT/nvidia-smi.txt"
echo "cores: $(nproc)"; free -g | head -2
node -e "const o=require('onnxruntime-node'); console.log('onnxruntime-node backends', JSON.stringify(o.listSupportedBackends()))"

say "WebGPU parity (shipped speech + face graphs, batch 1/5/32, vs the CPU provider)"
RESULTS=bench/results/gpu-check
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
timeout 150 node --import tsx --test tests/integration/models/webgpu.test.ts > "$RESULTS/webgpu-test.log" 2>&1
say "parity test exit $?: $(grep -E '^# (pass|fail|skipped)' "$RESULTS/webgpu-test.log" | tr '\n' ' ')"
grep -E "^# Subtest|# SKIP|^not ok" "$RESULTS/webgpu-test.log" | head -20

PROVIDERS="${GPU_CHECK_PROVIDERS:-webgpu,cpu}"
BATCHES="${GPU_CHECK_SPEECH_BATCHES-1,32,256}"
if [[ -n "$BATCHES" ]]; then
  for provider in ${PROVIDERS//,/ }; do
    say "speech model per call on $provider, batch $BATCHES (the per-call cost batching amortises)"
    timeout 60 node --import tsx bench/speech-latency.ts --provider "$provider" --batches "$BATCHES" --out "$OUT/speech-latency-$provider.json" 2>&1 | tail -n 6
  done
fi

if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,utilization.memory,memory.used --format=csv -l 1 > "$OUT/nvidia-smi-samples.csv" 2>/dev/null &
  SAMPLER=$!
fi
DEADLINE="${GPU_CHECK_DEADLINE_S:-390}"
LEFT=$(( DEADLINE - ($(date +%s) - START) ))
say "ladder: providers $PROVIDERS x processes ${GPU_CHECK_PROCESSES:-4,8}, sessions ${GPU_CHECK_SESSIONS:-256,512,1024}; no run starts after ${LEFT} s from now"
SMOKE=(); [[ "${GPU_CHECK_SMOKE:-0}" == "1" ]] && SMOKE=(--smoke)
node --import tsx bench/ladder.ts --providers "$PROVIDERS" --processes "${GPU_CHECK_PROCESSES:-4,8}" \
  --sessions "${GPU_CHECK_SESSIONS:-256,512,1024}" --seconds "${GPU_CHECK_SECONDS:-8}" --warmup-s "${GPU_CHECK_WARMUP_S:-2}" \
  --load-processes "${GPU_CHECK_LOAD_PROCESSES:-4}" --deadline-s "$(( LEFT > 0 ? LEFT : 0 ))" --dir "$RESULTS/ladder" \
  --extra="${GPU_CHECK_EXTRA:-}" "${SMOKE[@]}" 2>&1 | grep -vE '^\s*$' | tail -n 60
cleanup; SAMPLER=""
cp "$RESULTS/ladder/summary.json" "$OUT/ladder-summary.json" 2>/dev/null
cp "$RESULTS/ladder/summary.md" "$OUT/ladder-summary.md" 2>/dev/null
tar -C bench/results -czf "$OUT/gpu-check-results.tgz" gpu-check
say "done"
ls -la "$OUT"
