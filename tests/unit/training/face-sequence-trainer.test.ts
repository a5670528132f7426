import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOne } from '../../../src/training/face/per-frame-aus.js';
import { padAuSequences } from '../../../src/models/face/sequence-batch.js';
import { trainBiLstm, fitFrameNormaliser, disposeBiLstm, predictBiLstm } from '../../../src/training/face/train-bilstm.js';
import type { AuSequence } from '../../../src/training/face/per-frame-aus.js';
import { rng } from '../../../src/training/random.js';

// OpenFace 2.0 FeatureExtraction layout (", " separators, success column), 4 frames of made-up values, frame 3 untracked.
const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'face', '01-01-05-02-01-01-03.csv');

test('per-frame OpenFace CSV: keeps tracked frames, AU_COLUMNS order, label/actor from the name', () => {
  const s = readOne(FIXTURE);
  assert.deepEqual([s.clipId, s.actor, s.label, s.frames], ['01-05-02-01-01-03', 3, 4, 3]);
  assert.ok(Math.abs(s.aus[0] - 0.1) < 1e-6); // frame 1 AU01_r
  assert.ok(Math.abs(s.aus[2 * 35] - 0.4) < 1e-6); // 3rd kept frame is frame 4
  const bad = join(mkdtempSync(join(tmpdir(), 'pf-')), '01-01-05-02-01-01-03.csv');
  writeFileSync(bad, readFileSync(FIXTURE, 'utf8').replace(/, 0\.12, /, ', nan, '));
  assert.throws(() => readOne(bad), (e: Error) => e.message.startsWith(bad) && /line 2: column AU04_r is not a finite number/.test(e.message));
});

test('padAuSequences post-pads, masks and keeps the last maxFrames frames', () => {
  const mk = (frames: number, v: number): AuSequence => ({ clipId: '01-01-01-01-01-01', actor: 1, label: 0, frames, aus: new Float32Array(frames * 35).map((_, i) => v + Math.floor(i / 35)) });
  const seqs = [mk(2, 0), mk(5, 10)];
  const norm = { min: new Array(35).fill(0), max: new Array(35).fill(1) };
  const { aus, mask, steps } = padAuSequences(seqs, norm, 4);
  assert.equal(steps, 4);
  assert.deepEqual(Array.from(mask), [1, 1, 0, 0, 1, 1, 1, 1]);
  assert.equal(aus[4 * 35], 11); // second sequence starts at its frame 1 (last 4 of 5)
  assert.ok(fitFrameNormaliser(seqs).max[0] === 14);
});

// Mechanics only (the loop, early stopping and weight restore run end to end on a few random sequences);
// nothing is saved and no reported model comes from this.
test('trainBiLstm: epochs, early stopping on validation macro-F1 and best-weight restore run end to end', async () => {
  const rand = rng(9);
  const seq = (label: number, actor: number): AuSequence => {
    const frames = 2 + Math.floor(rand() * 3);
    return { clipId: '01-01-01-01-01-01', actor, label, frames, aus: Float32Array.from({ length: frames * 35 }, () => rand()) };
  };
  const train = Array.from({ length: 16 }, (_, i) => seq(i % 8, 1 + (i % 4)));
  const val = Array.from({ length: 8 }, (_, i) => seq(i, 9));
  const out = await trainBiLstm(train, val, { maxEpochs: 3, patience: 1, batchSize: 8, seed: 1 });
  assert.ok(out.epochs >= 1 && out.epochs <= 3);
  assert.ok(out.bestEpoch >= 1 && out.bestEpoch <= out.epochs);
  assert.ok(out.bestValF1 >= 0 && out.bestValF1 <= 1);
  const probs = await predictBiLstm(out.params, out.normaliser, val, 300);
  assert.equal(probs.length, 8);
  for (const p of probs) assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  disposeBiLstm(out.params);
});
