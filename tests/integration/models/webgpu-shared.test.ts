import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { EmotionResult } from '../../../clients/node/index.js';
import { OnnxWorkerPool } from '../../../src/models/worker-pool.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { webGpuThreadStats } from '../../../src/models/webgpu-thread.js';
import type { OnnxRunner } from '../../../src/contracts/models.js';
import { startTestServer } from '../../helpers/server.js';
import { FACE_ONNX, SPEECH_ONNX, assertOnWebGpu, feedsFor, probeWebGpu, streamTone } from '../../helpers/webgpu.js';

/**
 * Two WebGPU sessions running at once in one process crash it (onnxruntime#32561). Every WebGPU session of a process
 * therefore lives on one thread (src/models/webgpu-thread.ts): here two pools, and then two servers, use WebGPU in
 * this one process at the same time, and must neither crash nor differ from the CPU provider (same 1e-4 tolerance
 * as tests/integration/models/webgpu.test.ts). Runs on whatever WebGPU adapter the host has (lavapipe in CI).
 */
const skip = probeWebGpu();
const TOLERANCE = 1e-4;
const closers: (() => Promise<void>)[] = [];
after(async () => { for (const c of closers.reverse()) await c(); });

test('two WebGPU pools in one process, both busy at once: every run matches the CPU provider; one WebGPU thread serves both', { skip, timeout: 300_000 }, async () => {
  const functionals = (JSON.parse(readFileSync('models/speech/model.json', 'utf8')) as { functionals: { count: number } }).functionals.count;
  const models: [string, Record<string, number[]>][] = [[SPEECH_ONNX, { features: [300, 40], functionals: [functionals] }], [FACE_ONNX, { aus_norm: [35] }]];
  const pools = [0, 1].map(() => new OnnxWorkerPool({ workers: 2, intraOpThreads: 1, executionProvider: 'webgpu', allowSoftwareAdapter: true }));
  for (const p of pools) closers.push(() => p.close());
  const runs: { path: string; pool: number; gpu: OnnxRunner; cpu: OnnxRunner; inputs: Record<string, number[]> }[] = [];
  for (const [path, inputs] of models) {
    const cpu = await createInProcessRunner(path);
    closers.push(() => cpu.dispose());
    for (const [pool, p] of pools.entries()) runs.push({ path, pool, gpu: await p.runnerFactory(path), cpu, inputs });
  }
  for (const r of runs) assert.equal(r.gpu.provider, 'webgpu');
  assert.deepEqual({ users: webGpuThreadStats().users, models: webGpuThreadStats().models }, { users: 2, models: 4 });

  // Every model of both pools at batch 1, 5 and 32, three rounds, all issued at once.
  const calls = [0, 1, 2].flatMap(() => runs.flatMap((r) => [1, 5, 32].map(async (batch) => {
    const feeds = feedsFor(r.inputs, batch);
    const [g, c] = await Promise.all([r.gpu.run(feeds), r.cpu.run(feeds)]);
    const out = Object.keys(c)[0];
    return { what: `${r.path} batch ${batch}`, d: c[out].data.reduce((m, v, i) => Math.max(m, Math.abs(v - g[out].data[i])), 0) };
  })));
  const diffs = await Promise.all(calls);
  assert.equal(diffs.length, 36);
  for (const { what, d } of diffs) assert.ok(d <= TOLERANCE, `${what}: max |webgpu - cpu| = ${d}`);
  assert.equal(webGpuThreadStats().respawns, 0, 'the WebGPU thread never died');

  // A pool that closes releases its sessions on the thread; the other pool keeps running on it.
  await pools[0].close();
  assert.deepEqual({ users: webGpuThreadStats().users, models: webGpuThreadStats().models, running: webGpuThreadStats().running }, { users: 1, models: 2, running: true });
  for (const r of runs.filter((x) => x.pool === 1)) {
    const feeds = feedsFor(r.inputs, 5);
    const [g, c] = await Promise.all([r.gpu.run(feeds), r.cpu.run(feeds)]);
    const out = Object.keys(c)[0];
    assert.ok(c[out].data.every((v, i) => Math.abs(v - g[out].data[i]) <= TOLERANCE), `${r.path} after the other pool closed`);
  }
});

test('two servers in one process streaming on WebGPU at the same time give the CPU server\'s speech and face posteriors', { skip, timeout: 300_000 }, async () => {
  const gpuServers = await Promise.all([0, 1].map(() => startTestServer('uws', { models: { executionProvider: 'webgpu', allowSoftwareAdapter: true } })));
  for (const s of gpuServers) closers.push(() => s.close());
  const cpuServer = await startTestServer('uws', { models: { executionProvider: 'cpu' } });
  closers.push(() => cpuServer.close());
  for (const s of gpuServers) await assertOnWebGpu(s.url);
  // Per hop: the speech posterior then the face posterior (each model on WebGPU in the two servers).
  const posteriors = (results: EmotionResult[]) => results.map((r) => [...(r.speech?.probs ?? []), ...(r.face?.probs ?? [])]);
  const [a, b, cpu] = (await Promise.all([...gpuServers, cpuServer].map((s) => streamTone(s.url)))).map(posteriors);
  assert.ok(cpu.filter((p) => p.length === 16).length >= 3, `speech and face posteriors in ${cpu.length} CPU results`);
  for (const gpu of [a, b]) {
    assert.equal(gpu.length, cpu.length);
    gpu.forEach((probs, hop) => {
      assert.equal(probs.length, cpu[hop].length, `hop ${hop}: a posterior on one side only`);
      probs.forEach((v, k) => assert.ok(Math.abs(v - cpu[hop][k]) <= TOLERANCE, `hop ${hop} class ${k}: webgpu ${v} vs cpu ${cpu[hop][k]}`));
    });
  }
});
