#!/usr/bin/env bash
# Builds .gpukit/: what a lent GPU machine needs to run the server and its benchmarks, since that machine has no
# Node.js, no npm registry and no internet, and only the working tree plus <= 64 MiB of carried paths travel to it:
#   kit.tar.xz  this host's node binary, node_modules pruned to what `serve` and bench/ load on linux-x64 (no training,
#               no face pipeline, no other platforms' binaries), and a slice of RAVDESS (clips + AU table) for the load;
#   gl/*.deb    the Vulkan/EGL loader packages (the machine has the NVIDIA driver but may lack the loaders).
# Then, from a session lent a GPU:  run(command="bash scripts/gpu-check.sh", carry=[".gpukit"], timeout_s=480)
#
#   bash scripts/gpu-kit.sh [--clips-per-actor N]     (default 2: 48 clips, ~6 MB; sessions replay them round-robin)
set -euo pipefail
cd "$(dirname "$0")/.."

CLIPS_PER_ACTOR=2
if [[ "${1:-}" == "--clips-per-actor" ]]; then CLIPS_PER_ACTOR="$2"; fi
SHARED="${EMOSTREAM_SHARED_DIR:-../shared}"
[[ -f "$SHARED/ravdess/folds.json" ]] || { echo "gpu-kit: needs RAVDESS in $SHARED (../shared)" >&2; exit 2; }
[[ -d node_modules ]] || { echo "gpu-kit: run 'ONNXRUNTIME_NODE_INSTALL=skip npm ci' first" >&2; exit 2; }
[[ "$(uname -m)" == "x86_64" ]] || { echo "gpu-kit: the GPU machine is x86-64; build the kit on an x86-64 host" >&2; exit 2; }

KIT=.gpukit
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$KIT"
mkdir -p "$KIT/gl" "$STAGE/kit/bin" "$STAGE/kit/shared/ravdess/openface"

cp "$(command -v node)" "$STAGE/kit/bin/node"
# Debian's node keeps its symbol tables (~12 MB); the kit has to fit 64 MiB together with the working tree.
if command -v strip >/dev/null; then strip "$STAGE/kit/bin/node"; fi

# node_modules without what neither `serve` (video off) nor bench/ ever imports, and without other platforms' binaries.
cp -a node_modules "$STAGE/kit/node_modules"
NM="$STAGE/kit/node_modules"
rm -rf "$NM"/@tensorflow "$NM"/@vladmandic "$NM"/typescript "$NM"/playwright-core "$NM"/@img "$NM"/sharp \
  "$NM"/onnx-proto/node_modules/protobufjs/cli "$NM"/core-js "$NM"/libsvm-js "$NM"/ml-* "$NM"/@typescript-eslint "$NM"/eslint* "$NM"/@eslint "$NM"/.cache \
  "$NM"/fluent-ffmpeg/coverage "$NM"/fluent-ffmpeg/doc "$NM"/@types
find "$NM/onnxruntime-node/bin" -mindepth 3 -maxdepth 3 -type d ! -path '*/linux/x64' -exec rm -rf {} +
NODE_ABI=$(node -p 'process.versions.modules')
# The package loads binaries/uws_<platform>_<arch>_<abi>.node (dist/ holds a JS fallback and one copy).
find "$NM/@trufflesuite/uws-js-unofficial" -name 'uws_*.node' ! -name "uws_linux_x64_${NODE_ABI}.node" -delete
# src/uws.js loads binaries/; dist/ is the JS fallback, whose copy of the binary is never loaded.
rm -f "$NM"/@trufflesuite/uws-js-unofficial/dist/uws_*.node
# better-sqlite3 needs only its addon (build/Release/better_sqlite3.node): not the SQLite sources or object files.
mv "$NM/better-sqlite3/build/Release/better_sqlite3.node" "$STAGE/better_sqlite3.node"
rm -rf "$NM/better-sqlite3/build" && mkdir -p "$NM/better-sqlite3/build/Release"
mv "$STAGE/better_sqlite3.node" "$NM/better-sqlite3/build/Release/"
rm -rf "$NM"/better-sqlite3/deps "$NM"/better-sqlite3/src "$NM"/bintrees/test

# RAVDESS slice: the first N speech clips of every actor, the clip-mean AU table and the folds (hasShared() looks for it).
cp "$SHARED/ravdess/folds.json" "$STAGE/kit/shared/ravdess/"
cp "$SHARED/ravdess/openface/clip-mean-aus.csv" "$STAGE/kit/shared/ravdess/openface/"
for actor in "$SHARED"/ravdess/speech-16k/Actor_*; do
  dest="$STAGE/kit/shared/ravdess/speech-16k/$(basename "$actor")"
  mkdir -p "$dest"
  find "$actor" -name '*.wav' | sort | head -n "$CLIPS_PER_ACTOR" | xargs -I{} cp {} "$dest/"
done

# xz: the node binary and ONNX Runtime's library are most of it (86 + 45 MB raw).
XZ_OPT="-9 -T0" tar -C "$STAGE" -cJf "$KIT/kit.tar.xz" kit

# The loaders, as the device README says (amd64 lists kept apart from this host's own apt state).
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists)
mkdir -p /tmp/amd64-lists/partial
apt-get "${o[@]}" update -qq
(cd "$KIT/gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)

du -sh "$KIT"/kit.tar.xz "$KIT"/gl
total=$(du -sb "$KIT" | cut -f1)
echo "gpu-kit: $((total / 1048576)) MiB in $KIT (carry limit 64 MiB with the working tree: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1 | awk '{printf "%d", $1/1048576}') MiB)"
