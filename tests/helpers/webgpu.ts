import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EmoStreamClient, type EmotionResult } from '../../clients/node/index.js';
import type { Feeds, OnnxRunner } from '../../src/contracts/models.js';

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

/** Streams 2 s of a 220 Hz tone with constant AUs to a test server and returns every result, the final one included. */
export async function streamTone(url: string): Promise<EmotionResult[]> {
  const c = await EmoStreamClient.connect({ url });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  for (let k = 0; k < 100; k++) {
    const pcm = Int16Array.from({ length: 320 }, (_, i) => Math.round(8000 * Math.sin(((k * 320 + i) * 2 * Math.PI * 220) / 16000)));
    c.sendAudio(pcm, { sampleRate: 16000, channels: 1, ptsUs: k * 20_000 });
    if (k % 2 === 0) c.sendAu(new Array(35).fill(0.2), k * 20_000);
  }
  await c.end();
  await reader;
  return results;
}

/** /v1/models of a test server; asserts its speech and face models run on WebGPU. */
export async function assertOnWebGpu(url: string): Promise<{ providerFallbacks: unknown[] }> {
  const info = (await (await fetch(url.replace('ws', 'http') + '/v1/models')).json()) as { models: { modality: string; provider?: string; available: boolean }[]; providerFallbacks: unknown[] };
  const onnxModels = info.models.filter((m) => m.available && (m.modality === 'speech' || m.modality === 'face'));
  assert.ok(onnxModels.length >= 2);
  for (const m of onnxModels) assert.equal(m.provider, 'webgpu', JSON.stringify(m));
  return info;
}
