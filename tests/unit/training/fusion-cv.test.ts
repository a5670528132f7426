import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainFusion } from '../../../src/training/fusion/train-fusion.js';
import { loadFusion } from '../../../src/models/fusion/index.js';
import { writeFakeModel, clipIds } from '../../fixtures/fusion/synthetic-posteriors.js';

const FOLDS = [[1, 2], [3, 4], [5, 6]];
const quiet = () => {};

function fixtureDir(opts: { logits?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'fusion-cv-'));
  // speech "sees" emotions 0-3 and face 4-7: each alone is ~50-60 %, together they are complementary.
  writeFakeModel(root, 'speech', FOLDS, new Set([0, 1, 2, 3, 4]), 1, opts.logits);
  writeFakeModel(root, 'face-mlp', FOLDS, new Set([3, 4, 5, 6, 7]), 2, opts.logits);
  return root;
}

test('fusion CV on complementary base models beats each alone, writes report.json and the shipped heads', async () => {
  const root = fixtureDir();
  const out = join(root, 'out');
  const { report, fusion } = await trainFusion({ posteriorsDir: root, out, cv: true, ship: true, c: 1, numFolds: 3, log: quiet });
  assert.ok(report && fusion);
  const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.equal(json.folds.length, 3);
  for (const f of json.folds) assert.ok(f.accuracy >= 0 && f.accuracy <= 1);
  assert.ok(Math.abs(json.meanAccuracy - json.folds.reduce((s: number, f: { accuracy: number }) => s + f.accuracy, 0) / 3) < 1e-12);
  assert.equal(json.paperAccuracy, 0.867);
  // Probabilities: 'auto' fuses log-posteriors and reports the paper's variant (posteriors as they are) beside it.
  assert.equal(json.features, 'log-posteriors');
  assert.deepEqual(report.rows.slice(0, 2).map((r) => r.id), ['fusion-all-log-posteriors', 'fusion-all-posteriors']);
  assert.ok(report.rows[1].meanAccuracy > 0.5);
  for (const r of report.rows) assert.ok(r.meanNll !== undefined && r.meanNll > 0 && r.meanNll < Math.log(8) + 1, `${r.id} NLL ${r.meanNll}`);
  const singles = report.rows.filter((r) => r.id.startsWith('single-'));
  assert.equal(singles.length, 2);
  for (const s of singles) assert.ok(report.meanAccuracy > s.meanAccuracy + 0.1, `fusion ${report.meanAccuracy} vs ${s.id} ${s.meanAccuracy}`);
  assert.deepEqual(report.rows.filter((r) => r.id.startsWith('head-')).map((r) => r.id), ['head-speech', 'head-face', 'head-speech+face']);
  assert.equal(json.metrics.confusion.flat().reduce((a: number, b: number) => a + b, 0), 6 * 32);
  assert.ok(readFileSync(join(out, 'report.md'), 'utf8').includes('86.70'));
  assert.deepEqual(fusion.heads.map((h) => h.name), ['speech', 'face', 'speech+face']);
  // The written heads load in the server's loader and pick the head for the present subset.
  const f = await loadFusion({ dir: out });
  assert.equal(f.status().available, true);
  const speech = Float32Array.from([0.9, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01]);
  const face = Float32Array.from([0.01, 0.01, 0.01, 0.02, 0.02, 0.02, 0.9, 0.01]);
  assert.equal(f.fuse({ speech, face }).head, 'speech+face');
  assert.equal(f.fuse({ speech }).head, 'speech');
  assert.equal(f.fuse({ face, expression: face }).head, 'face');
  const p = f.fuse({ speech, face }).probs;
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
});

test('fusion accepts logits (any real-valued scores) and any number of base models', async () => {
  const root = fixtureDir({ logits: true });
  writeFakeModel(root, 'face-svc', FOLDS, new Set([5, 6, 7]), 3, true);
  const { report } = await trainFusion({ posteriorsDir: root, out: join(root, 'out'), cv: true, ship: false, c: 1, numFolds: 3, log: quiet });
  assert.equal(report!.baseModels.length, 3);
  assert.equal(report!.features, 'posteriors'); // logits are not probabilities: no log transform
  assert.equal(report!.rows.filter((r) => r.id.startsWith('fusion-all')).length, 1);
  assert.ok(report!.meanAccuracy > 0.8, `fusion on logits ${report!.meanAccuracy}`);
  await assert.rejects(trainFusion({ posteriorsDir: root, out: join(root, 'out'), cv: true, ship: false, c: 1, features: 'log-posteriors', numFolds: 3, log: quiet }),
    /log-posterior fusion needs probabilities in \[0, 1\], got -?[\d.e-]+ in column \d+ \(face-mlp\); use --features posteriors for logits/);
});

test('shipping heads needs one model per modality', async () => {
  const root = fixtureDir();
  writeFakeModel(root, 'face-svc', FOLDS, new Set([5]), 3);
  await assert.rejects(trainFusion({ posteriorsDir: root, out: join(root, 'o'), cv: false, ship: true, c: 1, numFolds: 3, log: quiet }), /one base model per modality; 'face' has face-mlp and face-svc/);
});

test('bad posteriors directories give errors naming the file', async () => {
  const run = (root: string) => trainFusion({ posteriorsDir: root, out: join(root, 'o'), cv: true, ship: false, c: 1, numFolds: 3, log: quiet });
  // Missing fold.
  let root = fixtureDir();
  rmSync(join(root, 'face-mlp', 'fold2'), { recursive: true });
  await assert.rejects(run(root), /face-mlp\/fold2: missing fold 2/);
  // A clip in both train and test.
  root = fixtureDir();
  const leaked = clipIds([1])[0];
  appendFileSync(join(root, 'speech', 'fold1', 'test.csv'), `${leaked},1,0,0,0,0,0,0,0\n`);
  await assert.rejects(run(root), (e: Error) => /speech\/fold1\/test\.csv: line \d+: clip 01-01-01-01-01-01 is also in .*train\.csv/.test(e.message));
  // A clip that one model has and the other lacks.
  root = fixtureDir();
  const path = join(root, 'speech', 'fold0', 'test.csv');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  writeFileSync(path, lines.slice(0, -1).join('\n') + '\n');
  await assert.rejects(run(root), /speech\/fold0\/test\.csv: clip .* \(in .*face-mlp\/fold0\/test\.csv\) is missing/);
  // Wrong label order in one file.
  root = fixtureDir();
  const p2 = join(root, 'speech', 'fold0', 'train.csv');
  writeFileSync(p2, readFileSync(p2, 'utf8').replace('neutral,calm', 'calm,neutral'));
  await assert.rejects(run(root), /speech\/fold0\/train\.csv: line 1: bad header \(columns in the wrong order\)/);
  // Not subject-wise: an actor in both splits.
  root = fixtureDir();
  for (const m of ['speech', 'face-mlp']) appendFileSync(join(root, m, 'fold0', 'test.csv'), `01-01-02-01-01-03,1,0,0,0,0,0,0,0\n`);
  await assert.rejects(run(root), /fold0: test clip 01-01-02-01-01-03 has actor 3, who is also in train\.csv/);
  // No such directory / model.
  await assert.rejects(run(join(root, 'nope')), /posteriors directory not found/);
  await assert.rejects(trainFusion({ posteriorsDir: root, models: ['speech', 'face-x'], out: join(root, 'o'), cv: true, ship: false, c: 1, numFolds: 3, log: quiet }), /base model 'face-x' not found/);
});
