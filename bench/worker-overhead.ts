/**
 * Round-trip cost of running ONNX in a worker thread versus in-process, on a tiny graph (so the model time is
 * negligible and what remains is the message passing): `node --import tsx bench/worker-overhead.ts [--runs N]`.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OnnxGraphBuilder } from '../src/onnx/builder.js';
import { createInProcessRunner } from '../src/models/onnx-runner-inprocess.js';
import { OnnxWorkerPool } from '../src/models/worker-pool.js';
import type { OnnxRunner } from '../src/contracts/models.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3000' }, out: { type: 'string', default: 'bench/results/worker-overhead.json' } } });
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'emo-wo-'));
const path = join(dir, 'm.onnx');
const g = new OnnxGraphBuilder('tiny');
g.input('x', ['batch', 35]);
const w = g.constFloat('w', Array.from({ length: 35 * 8 }, (_, i) => Math.sin(i)), [35, 8]);
g.op('Softmax', [g.op('MatMul', ['x', w])], { axis: 1 }, 'probs');
g.output('probs', ['batch', 8]);
writeFileSync(path, g.toBytes());

async function time(runner: OnnxRunner, batch: number): Promise<number> {
  const feeds = { x: { data: new Float32Array(batch * 35).fill(0.5), dims: [batch, 35] } };
  for (let i = 0; i < 1000; i++) await runner.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await runner.run(feeds);
  return ((performance.now() - t0) * 1000) / runs;
}

const pool = new OnnxWorkerPool({ workers: 1, intraOpThreads: 1, executionProvider: 'cpu' });
const inproc = await createInProcessRunner(path);
const worker = await pool.runnerFactory(path);
const rows: Record<string, { inProcessUs: number; workerUs: number; overheadUs: number }> = {};
// JIT and ONNX Runtime warm up over the first thousands of calls: one untimed pass over everything first.
for (const batch of [1, 8, 64]) {
  await time(inproc, batch);
  await time(worker, batch);
}
for (const batch of [1, 8, 64]) {
  const a = await time(inproc, batch);
  const b = await time(worker, batch);
  rows[`batch${batch}`] = { inProcessUs: Number(a.toFixed(1)), workerUs: Number(b.toFixed(1)), overheadUs: Number((b - a).toFixed(1)) };
  console.log(`batch ${batch}: in-process ${a.toFixed(1)} us, worker ${b.toFixed(1)} us, round-trip overhead ${(b - a).toFixed(1)} us per call`);
}
await pool.close();
await inproc.dispose();
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(values.out!, '..'), { recursive: true });
writeFileSync(values.out!, JSON.stringify({ runs, results: rows, machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version }, date: new Date().toISOString() }, null, 2) + '\n');
