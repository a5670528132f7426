/**
 * Face model speed on one CPU core (onnxruntime-node, 1 intra-op thread), per window / per hop:
 * - the shipped static model (models/face): mean AUs over the window -> min-max -> MLP(80), at batch 1, 8 and 32;
 * - the sequence model (bi-LSTM 2 x 50 + attention) at windows of 30/50/90 frames, batch 1 and 8. It is bidirectional
 *   with attention over the whole window, so nothing carries over between hops: its incremental cost per hop is one
 *   full pass over the window. No trained sequence model exists yet (no per-frame RAVDESS AUs), so it is timed with
 *   randomly initialised weights: the cost does not depend on the weights' values.
 * - the shipped late fusion (models/fusion): one synchronous fuse() per window.
 * Writes bench/results/face-inference.json. Run: node --import tsx bench/face-inference.ts [modelDir]
 */
import { writeFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { cpus, totalmem, tmpdir, platform, arch } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createInProcessRunner } from '../src/models/onnx-runner-inprocess.js';
import { loadFaceModel } from '../src/models/face/index.js';
import { initBiLstm, biLstmWeights, disposeBiLstm, BILSTM_LAYERS, BILSTM_UNITS } from '../src/training/face/bilstm.js';
import { exportBiLstmOnnx, SEQ_INPUT, SEQ_MASK, SEQ_OUTPUT } from '../src/training/face/export-bilstm-onnx.js';
import type { AuWindow } from '../src/contracts/models.js';
import { loadFusion } from '../src/models/fusion/index.js';

const dir = process.argv[2] ?? 'models/face';
const factory = (p: string) => createInProcessRunner(p, { intraOpThreads: 1 });

function quantiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { medianMs: q(0.5), p95Ms: q(0.95), p99Ms: q(0.99), meanMs: xs.reduce((a, b) => a + b, 0) / xs.length, n: xs.length };
}

let seed = 11;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const window = (frames: number): AuWindow => ({ frames, aus: Float32Array.from({ length: frames * 35 }, (_, i) => (i % 35 < 17 ? 3 * rand() : rand() > 0.5 ? 1 : 0)) });

async function time(fn: () => Promise<unknown>, reps: number, warmup = 20): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const results: Record<string, unknown> = {};
const model = await loadFaceModel({ dir, runnerFactory: factory });
if (!model.status().available) throw new Error(`face model not available: ${model.status().error}`);
const staticRows = [];
for (const batch of [1, 8, 32]) {
  const ws = Array.from({ length: batch }, () => window(30));
  const q = quantiles(await time(() => model.inferBatch(ws), 500));
  staticRows.push({ batch, framesPerWindow: 30, ...q, perWindowMedianMs: q.medianMs / batch });
}
await model.dispose();
results.static = { model: `${dir} (${String(model.status().details?.staticModel ?? 'static')})`, rows: staticRows };

const params = await initBiLstm(0);
const onnx = exportBiLstmOnnx(await biLstmWeights(params), BILSTM_LAYERS, BILSTM_UNITS);
disposeBiLstm(params);
const tmp = mkdtempSync(join(tmpdir(), 'face-bench-'));
writeFileSync(join(tmp, 'bilstm.onnx'), onnx);
const runner = await factory(join(tmp, 'bilstm.onnx'));
const seqRows = [];
for (const frames of [30, 50, 90]) {
  for (const batch of [1, 8]) {
    const aus = Float32Array.from({ length: batch * frames * 35 }, () => rand());
    const mask = new Float32Array(batch * frames).fill(1);
    const q = quantiles(await time(() => runner.run({ [SEQ_INPUT]: { data: aus, dims: [batch, frames, 35] }, [SEQ_MASK]: { data: mask, dims: [batch, frames] } }).then((r) => r[SEQ_OUTPUT]), 200));
    seqRows.push({ frames, batch, ...q, perWindowMedianMs: q.medianMs / batch, incrementalPerHopMs: q.medianMs / batch });
  }
}
await runner.dispose();
results.sequence = {
  model: 'bi-LSTM 2 x 50 + attention, random weights (timing only; untrained: no per-frame RAVDESS AUs here)',
  note: 'bidirectional + attention over the window: no state carries across hops, so the incremental cost per hop is one full pass',
  rows: seqRows,
};

const fusion = await loadFusion({ dir: process.argv[3] ?? 'models/fusion' });
if (fusion.status().available) {
  const posterior = () => { const p = Float32Array.from({ length: 8 }, () => rand()); const s = p.reduce((a, b) => a + b, 0); return p.map((v) => v / s); };
  const inputs = Array.from({ length: 1000 }, () => ({ speech: posterior(), face: posterior() }));
  const heads = (fusion.status().details?.heads as { name: string }[]).map((h) => h.name);
  const calls = 20000;
  for (let i = 0; i < 2000; i++) fusion.fuse(inputs[i % 1000]);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fusion.fuse(inputs[i % 1000]);
  results.fusion = { heads, calls, meanUsPerFuse: (1000 * (performance.now() - t0)) / calls };
} else {
  results.fusion = { error: fusion.status().error };
}

const require = createRequire(import.meta.url);
const out = {
  benchmark: 'face-inference',
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model, cores: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1), platform: platform(), arch: arch(),
    node: process.version, onnxruntime: (require('onnxruntime-node/package.json') as { version: string }).version, intraOpThreads: 1,
  },
  ...results,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/face-inference.json', JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(out, null, 2));
