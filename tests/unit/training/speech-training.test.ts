import { test } from 'node:test';
import assert from 'node:assert/strict';
import { innerActorSplits } from '../../../src/training/speech/cv.js';
import { clipWindowEnds } from '../../../src/training/speech/train.js';
import { augmentedWindow, plainWindow, whiteNoiseMelPower, DEFAULT_AUGMENT, NO_AUGMENT } from '../../../src/training/speech/augment.js';
import { rng } from '../../../src/training/random.js';
import { hasShared, listSpeechClips, loadFolds } from '../../../src/training/ravdess.js';

test('inner splits are subject-wise, disjoint, cover every actor and keep the gender balance', () => {
  const actors = [1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 17, 18, 19, 20, 21, 22, 23, 24];
  const [a, b] = innerActorSplits(actors, 2);
  assert.deepEqual([...a, ...b].sort((x, y) => x - y), actors);
  assert.equal(a.filter((x) => b.includes(x)).length, 0);
  const males = (g: number[]) => g.filter((x) => x % 2 === 1).length;
  assert.ok(Math.abs(males(a) - males(b)) <= 1 && Math.abs(a.length - b.length) <= 1);
});

test('clip window ends: every hop, the last one at the clip end; short clips give one window', () => {
  assert.deepEqual(clipWindowEnds(420, 300, 50), [300, 350, 400, 420]);
  assert.deepEqual(clipWindowEnds(290, 300, 50), [290]);
  assert.deepEqual(clipWindowEnds(300, 300, 50), [300]);
});

test('augmented and plain windows: right size, finite, short clips left-padded with 0', () => {
  const bands = 40, frames = 120;
  const logMel = Float32Array.from({ length: frames * bands }, (_, i) => -8 + Math.sin(i * 0.01));
  const stats = { mean: new Float32Array(bands).fill(-8), std: new Float32Array(bands).fill(1) };
  const out = new Float32Array(300 * bands + 7).fill(99);
  augmentedWindow(logMel, frames, bands, stats, 300, NO_AUGMENT, rng(1), whiteNoiseMelPower(), out, 7);
  assert.ok(out.subarray(7, 7 + 180 * bands).every((v) => v === 0), 'left padding');
  for (let i = 0; i < 120 * bands; i++) assert.ok(Math.abs(out[7 + 180 * bands + i] - (logMel[i] + 8)) < 1e-5);
  const rand = rng(2);
  for (let k = 0; k < 20; k++) {
    augmentedWindow(logMel, frames, bands, stats, 300, DEFAULT_AUGMENT, rand, whiteNoiseMelPower(), out, 7);
    assert.ok(out.subarray(7).every(Number.isFinite));
  }
  const plain = new Float32Array(300 * bands);
  plainWindow(logMel, 120, bands, stats, 300, plain, 0);
  assert.ok(plain.subarray(0, 180 * bands).every((v) => v === 0));
});

test('RAVDESS speech: 1,440 clips, 24 actors x 60, paper folds cover all actors once', { skip: hasShared() ? false : 'needs ../shared (RAVDESS)' }, () => {
  const clips = listSpeechClips();
  assert.equal(clips.length, 1440);
  const perActor = new Map<number, number>();
  for (const c of clips) perActor.set(c.actor, (perActor.get(c.actor) ?? 0) + 1);
  assert.equal(perActor.size, 24);
  assert.ok([...perActor.values()].every((n) => n === 60));
  assert.equal(clips.filter((c) => c.emotion === 'neutral').length, 96);
  assert.deepEqual(loadFolds().flat().sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i + 1));
  assert.equal(clips.find((c) => c.path.endsWith('03-01-05-02-01-01-16.wav'))?.clipId, '01-05-02-01-01-16');
});

test('mel-axis warp: off (absent or 0) leaves the random stream and the window unchanged; on, windows differ and stay finite', () => {
  const bands = 40, frames = 320;
  const logMel = Float32Array.from({ length: frames * bands }, (_, i) => -8 + Math.sin(i * 0.013) + 0.5 * Math.cos((i % bands) * 0.4));
  const stats = { mean: new Float32Array(bands).fill(-8), std: new Float32Array(bands).fill(1) };
  const run = (aug: typeof DEFAULT_AUGMENT) => {
    const out = new Float32Array(300 * bands);
    augmentedWindow(logMel, frames, bands, stats, 300, aug, rng(5), whiteNoiseMelPower(), out, 0);
    return out;
  };
  assert.deepEqual(run({ ...DEFAULT_AUGMENT, melWarp: 0 }), run(DEFAULT_AUGMENT));
  const warped = run({ ...DEFAULT_AUGMENT, melWarp: 0.1 });
  assert.ok(warped.every(Number.isFinite));
  assert.notDeepEqual(warped, run(DEFAULT_AUGMENT));
});
