import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../helpers/until.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxWorkerPool } from '../../../src/models/worker-pool.js';
import { providerCandidates, AUTO_ORDER, supportedBackends } from '../../../src/models/providers.js';
import { buildTinyModels, readHead, referencePosterior, SPEECH_FEATURES } from '../../helpers/tiny-models.js';

const root = mkdtempSync(join(tmpdir(), 'emo-pool-'));
const dirs = buildTinyModels(root);
const pools: OnnxWorkerPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  rmSync(root, { recursive: true, force: true });
});

function pool(executionProvider: 'auto' | 'cpu' | 'webgpu' | 'cuda', workers = 2, logs: string[] = []) {
  const p = new OnnxWorkerPool({ workers, intraOpThreads: 1, executionProvider, log: (_l, m) => logs.push(m) });
  pools.push(p);
  return p;
}

test('golden: a batch through the worker pool matches softmax(xW + b) computed in TypeScript', async () => {
  const runner = await pool('cpu').runnerFactory(join(dirs.speech, 'model.onnx'));
  assert.equal(runner.provider, 'cpu');
  const head = readHead(dirs.speech);
  const rows = [[0.1, 0.2, 0.3], [1, -1, 0.5], [0, 0, 0], [2.5, 0.1, 1]];
  const x = Float32Array.from(rows.flat());
  const runs = await Promise.all([0, 1, 2].map(() => runner.run({ features: { data: x, dims: [rows.length, SPEECH_FEATURES] } })));
  for (const out of runs) {
    assert.deepEqual(out.probs.dims, [4, 8]);
    rows.forEach((row, i) => {
      const ref = referencePosterior(head, row);
      for (let k = 0; k < 8; k++) assert.ok(Math.abs(out.probs.data[i * 8 + k] - ref[k]) < 1e-5, `row ${i} class ${k}`);
    });
  }
  assert.equal(x[0], Float32Array.from([0.1])[0], 'caller buffers are not detached');
  await runner.dispose();
});

test('transferInputs moves a caller-built tensor to the worker instead of copying it; views of a larger buffer are still copied', async () => {
  const runner = await pool('cpu', 1).runnerFactory(join(dirs.speech, 'model.onnx'));
  const head = readHead(dirs.speech);
  const row = [1, -1, 0.5];
  const check = (out: Awaited<ReturnType<typeof runner.run>>) => {
    const ref = referencePosterior(head, row);
    for (let k = 0; k < 8; k++) assert.ok(Math.abs(out.probs.data[k] - ref[k]) < 1e-5, `class ${k}`);
  };
  const owned = Float32Array.from(row);
  check(await runner.run({ features: { data: owned, dims: [1, SPEECH_FEATURES] } }, { transferInputs: true }));
  assert.equal(owned.byteLength, 0, 'the buffer was moved, not copied');
  const backing = Float32Array.from([9, ...row, 9]);
  const view = backing.subarray(1, 1 + SPEECH_FEATURES);
  check(await runner.run({ features: { data: view, dims: [1, SPEECH_FEATURES] } }, { transferInputs: true }));
  assert.deepEqual([...backing], [9, ...row, 9].map((v) => Math.fround(v)), 'a view of a larger buffer is copied (moving it would take its neighbours)');
  await runner.dispose();
});

test('a bad input shape is a clear rejection, and the worker keeps serving', async () => {
  const runner = await pool('cpu', 1).runnerFactory(join(dirs.face, 'model.onnx'));
  await assert.rejects(runner.run({ aus: { data: new Float32Array(10), dims: [1, 10] } }), /model\.onnx/);
  const ok = await runner.run({ aus: { data: new Float32Array(35), dims: [1, 35] } });
  assert.equal(ok.probs.data.length, 8);
});

test('a missing model file rejects with the path in the message', async () => {
  await assert.rejects(pool('cpu', 1).runnerFactory(join(root, 'nope.onnx')), /nope\.onnx/);
});

test('provider candidates: auto follows the documented order, explicit providers are checked', () => {
  assert.deepEqual(AUTO_ORDER, ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(providerCandidates('auto', [{ name: 'cpu', bundled: true }]), ['cpu']);
  assert.deepEqual(providerCandidates('auto', [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }, { name: 'cuda', bundled: false }]), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(providerCandidates('cpu', []), ['cpu']);
  assert.throws(() => providerCandidates('cuda', [{ name: 'cpu', bundled: true }]), /not supported by this onnxruntime-node build/);
  assert.ok(supportedBackends().some((b) => b.name === 'cpu'));
});

test('auto falls back to a provider that works with one log line; the runner reports what it runs on', async () => {
  const logs: string[] = [];
  const p = pool('auto', 1, logs);
  const runner = await p.runnerFactory(join(dirs.speech, 'model.onnx'));
  const gpuListed = supportedBackends().some((b) => b.name === 'cuda' || b.name === 'webgpu');
  // The start-up notice that software Vulkan devices are hidden is not a provider decision.
  const decisions = () => logs.filter((l) => !/hidden from WebGPU/.test(l));
  if (runner.provider === 'cpu' && gpuListed) {
    assert.equal(decisions().length, 1, logs.join('\n'));
    assert.match(decisions()[0], /unavailable .*runs on cpu/);
  }
  const second = await p.runnerFactory(join(dirs.face, 'model.onnx'));
  assert.equal(second.provider, runner.provider);
  assert.ok(decisions().length <= 1, 'providers that failed once are not retried for the next model');
});

test('an explicit provider that is not available is a clear error, not a silent CPU fallback', async (t) => {
  const cudaWorks = await pool('cuda', 1).runnerFactory(join(dirs.speech, 'model.onnx')).then(() => true, (err: Error) => {
    assert.match(err.message, /cuda/);
    assert.match(err.message, /executionProvider: auto/);
    return false;
  });
  if (cudaWorks) t.diagnostic('CUDA is available on this machine: nothing to check');
});

test('a worker that dies is replaced and reloads its models; calls after that succeed', async () => {
  const logs: string[] = [];
  const p = pool('cpu', 1, logs);
  const runner = await p.runnerFactory(join(dirs.face, 'model.onnx'));
  const feeds = { aus: { data: new Float32Array(35).fill(0.3), dims: [1, 35] } };
  const before = await runner.run(feeds);
  await p.killWorker(0);
  await until(() => p.respawns > 0, 'the replacement worker');
  assert.equal(p.respawns, 1);
  assert.match(logs.join('\n'), /died .*replacement/);
  const after = await runner.run(feeds);
  assert.deepEqual(Array.from(after.probs.data), Array.from(before.probs.data));
});
