import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakerStatsAccumulator, applyNorm, MIN_STD } from '../../../src/features/speaker-norm.js';

test('running statistics equal the direct mean/std of active frames; silent frames are ignored', () => {
  const bands = 3;
  const active = [[-5, -6, -7], [-3, -2, -9], [-4, -8, -5]];
  const silent = [[-23, -23, -23], [-20, -21, -22]];
  const frames = Float32Array.from([active[0], silent[0], active[1], silent[1], active[2]].flat());
  const acc = new SpeakerStatsAccumulator(bands, -14);
  acc.addAll(frames);
  assert.equal(acc.frames, 3);
  const s = acc.stats();
  for (let b = 0; b < bands; b++) {
    const col = active.map((r) => r[b]);
    const mean = col.reduce((x, y) => x + y) / 3;
    const std = Math.sqrt(col.reduce((x, y) => x + (y - mean) ** 2, 0) / 3);
    assert.ok(Math.abs(s.mean[b] - mean) < 1e-5);
    assert.ok(Math.abs(s.std[b] - Math.max(MIN_STD, std)) < 1e-5);
  }
  const normed = applyNorm(Float32Array.from(active[0]), s);
  for (let b = 0; b < bands; b++) assert.ok(Math.abs(normed[b] - (active[0][b] - s.mean[b]) / s.std[b]) < 1e-6);
});

test('the prior sets the statistics before any speech and is outweighed by the speaker as frames arrive', () => {
  const prior = { mean: Float32Array.from([0, 0]), std: Float32Array.from([1, 1]) };
  const acc = new SpeakerStatsAccumulator(2, -14, { stats: prior, weightFrames: 10 });
  assert.deepEqual(Array.from(acc.stats().mean), [0, 0]);
  for (let i = 0; i < 990; i++) acc.add(Float32Array.from([-4, -6]), 0);
  const s = acc.stats();
  assert.ok(Math.abs(s.mean[0] - -3.96) < 1e-4 && Math.abs(s.mean[1] - -5.94) < 1e-4);
});

test('no prior and no active frame: a specific error', () => {
  const acc = new SpeakerStatsAccumulator(2, -14);
  acc.add(Float32Array.from([-23, -23]), 0);
  assert.throws(() => acc.stats(), /no active frames and no prior/);
});
