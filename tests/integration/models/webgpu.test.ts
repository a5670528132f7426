import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OnnxWorkerPool } from '../../../src/models/worker-pool.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { startTestServer } from '../../helpers/server.js';
import { FACE_ONNX, SPEECH_ONNX, assertOnWebGpu, feedsFor, maxDiff, probeWebGpu, streamTone } from '../../helpers/webgpu.js';

/**
 * The WebGPU execution provider for real: ONNX Runtime's bundled Dawn on whatever Vulkan device this host has. On CI
 * and the development machine that is Mesa's lavapipe (a software Vulkan device, scripts/install-software-vulkan.sh),
 * so these tests exercise the provider, its kernels and the server's path through it, not GPU speed. Without any
 * WebGPU adapter they skip.
 */
const skip = probeWebGpu();
const pools: OnnxWorkerPool[] = [];
after(async () => { await Promise.all(pools.map((p) => p.close())); });

test('shipped speech and face models on WebGPU match the CPU provider within 1e-4 at batch 1, 5 and 32', { skip, timeout: 240_000 }, async () => {
  const pool = new OnnxWorkerPool({ workers: 1, intraOpThreads: 1, executionProvider: 'webgpu', allowSoftwareAdapter: true });
  pools.push(pool);
  const functionals = (JSON.parse(readFileSync('models/speech/model.json', 'utf8')) as { functionals: { count: number } }).functionals.count;
  const models: [string, Record<string, number[]>][] = [[SPEECH_ONNX, { features: [300, 40], functionals: [functionals] }], [FACE_ONNX, { aus_norm: [35] }]];
  for (const [path, inputs] of models) {
    const gpu = await pool.runnerFactory(path);
    const cpu = await createInProcessRunner(path);
    assert.equal(gpu.provider, 'webgpu');
    for (const batch of [1, 5, 32]) {
      const d = await maxDiff(gpu, cpu, feedsFor(inputs, batch));
      assert.ok(d <= 1e-4, `${path} batch ${batch}: max |webgpu - cpu| = ${d}`);
    }
    await cpu.dispose();
  }
});

test('the server on WebGPU: /v1/models reports the provider and streamed windows get posteriors through the batcher', { skip, timeout: 240_000 }, async () => {
  const ts = await startTestServer('uws', { models: { executionProvider: 'webgpu', allowSoftwareAdapter: true } });
  try {
    const info = await assertOnWebGpu(ts.url);
    assert.deepEqual(info.providerFallbacks, []);
    const results = await streamTone(ts.url);
    assert.ok(results.length >= 4, `${results.length} results`);
    const withSpeech = results.filter((r) => r.speech !== null);
    assert.ok(withSpeech.length >= 3, `speech posteriors in ${withSpeech.length} of ${results.length} results`);
    for (const r of withSpeech) assert.ok(Math.abs(r.speech!.probs.reduce((s, v) => s + v, 0) - 1) < 1e-3, JSON.stringify(r.speech));
  } finally {
    await ts.close();
  }
});
