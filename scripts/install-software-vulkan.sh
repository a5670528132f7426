#!/usr/bin/env bash
# Installs Mesa's lavapipe, a software Vulkan device, so that ONNX Runtime's WebGPU provider (Dawn on Vulkan) can be
# tested on a machine without a GPU. Debian 12's own Mesa (22.3) lavapipe lacks a feature Dawn requires
# (shaderUniform*ArrayDynamicIndexing), so this takes Mesa 25 from bookworm-backports. Best effort: it exits 0 and says
# why when it cannot install, and the WebGPU tests then skip. Never needed to run the server.
set -uo pipefail

probe() {
  node --input-type=module -e "import * as ort from 'onnxruntime-node';
    try { await ort.InferenceSession.create('models/face/static-mlp80.onnx', { executionProviders: ['webgpu'], logSeverityLevel: 4 }); process.exit(0); }
    catch { process.exit(1); }" >/dev/null 2>&1
}

cd "$(dirname "$0")/.."
if probe; then
  echo "software-vulkan: a WebGPU adapter is already available"
  exit 0
fi
if ! grep -q '^ID=debian' /etc/os-release 2>/dev/null || ! grep -q 'VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "software-vulkan: not Debian 12 (bookworm); install a Vulkan driver yourself to run the WebGPU tests"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
list=/etc/apt/sources.list.d/emostream-backports.list
[ -f "$list" ] || echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$list"
if ! apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 \
  || ! apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers >/dev/null; then
  echo "software-vulkan: could not install mesa-vulkan-drivers from bookworm-backports; the WebGPU tests will skip"
  exit 0
fi
if probe; then
  echo "software-vulkan: lavapipe installed; WebGPU runs on a software Vulkan device (for tests only)"
else
  echo "software-vulkan: installed, but ONNX Runtime still finds no WebGPU adapter; the WebGPU tests will skip"
fi
exit 0
