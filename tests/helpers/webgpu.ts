import { spawnSync } from 'node:child_process';
import type { Feeds, OnnxRunner } from '../../src/models/backend.js';

/** Shipped graphs the WebGPU tests run (tests/integration/models-webgpu*.test.ts). */
export const SPEECH_ONNX = 'models/speech/speech-tcn.onnx';
export const FACE_ONNX = 'models/face/static-mlp80.onnx';

/**
 * Probed in a child process: a WebGPU context, once created, fixes the Vulkan driver choice for the process. Returns
 * false when WebGPU works, else the reason to skip.
 */
export function probeWebGpu(): string | false {
  const script = `import * as ort from 'onnxruntime-node';
    try { await ort.InferenceSession.create(${JSON.stringify(FACE_ONNX)}, { executionProviders: ['webgpu'], logSeverityLevel: 4 }); console.log('webgpu-ok'); }
    catch (e) { console.log('webgpu-fail ' + String(e.message).split('\\n')[0]); }`;
  const env = { ...process.env };
  delete env.VK_LOADER_DRIVERS_DISABLE;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env, timeout: 60_000 });
  if (res.stdout.includes('webgpu-ok')) return false;
  const reason = res.stdout.match(/webgpu-fail (.*)/)?.[1] ?? `probe exited ${res.status}`;
  return `no WebGPU adapter on this host (${reason.slice(-120)}); install a Vulkan driver, e.g. scripts/install-software-vulkan.sh`;
}

function deterministic(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 1.5);
}

/** Deterministic feeds for every input of a model, `batch` rows each (the speech graph has two inputs). */
export function feedsFor(inputs: Record<string, number[]>, batch: number): Feeds {
  return Object.fromEntries(Object.entries(inputs).map(([name, frame], k) => {
    const dims = [batch, ...frame];
    return [name, { data: deterministic(dims.reduce((x, y) => x * y, 1), batch + k), dims }];
  }));
}

export async function maxDiff(a: OnnxRunner, b: OnnxRunner, feeds: Feeds): Promise<number> {
  const [ra, rb] = await Promise.all([a.run(feeds), b.run(feeds)]);
  const out = Object.keys(ra)[0];
  return ra[out].data.reduce((m, v, i) => Math.max(m, Math.abs(v - rb[out].data[i])), 0);
}
