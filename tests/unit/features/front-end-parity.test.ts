import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';
import { DEFAULT_PITCH_CONFIG, pitchFrameCount, pitchFrames } from '../../../src/features/pitch.js';
import { hasShared, listSpeechClips } from '../../../src/training/ravdess.js';
import { readWav } from '../../../src/features/wav.js';
import { GOLDEN_PATH, decodeArrays, fixtureClip, frontEndOutputs, syntheticSignal } from './front-end-golden.js';

/**
 * The session-9 speed-ups (YIN's prefix sums and one-pass CMND, loop order in the functionals) reorder no floating-point
 * operation, so the outputs are meant to be bit-identical to 7f2ee49's; the tolerance below only allows for float32
 * rounding should a later change reorder a sum.
 */
const ABS_TOLERANCE = 1e-5;
const REL_TOLERANCE = 1e-5;

function assertClose(name: string, got: Float32Array, want: Float32Array): void {
  assert.equal(got.length, want.length, `${name}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w)) { assert.ok(Number.isNaN(g), `${name}[${i}]: NaN before, ${g} now`); continue; }
    assert.ok(Math.abs(g - w) <= ABS_TOLERANCE + REL_TOLERANCE * Math.abs(w), `${name}[${i}]: ${w} before, ${g} now`);
  }
}

const NAMES = ['F0', 'aperiodicity', 'CMND minimum'];

test('front end equals 7f2ee49 (golden file): pitch, voice tracks, every hop\'s functionals and the window features, synthetic voice and CREMA-D clip', async () => {
  const golden = decodeArrays(readFileSync(GOLDEN_PATH));
  const now = [...await frontEndOutputs(resolve('.'), syntheticSignal()), ...await frontEndOutputs(resolve('.'), fixtureClip())];
  assert.equal(now.length, golden.length, 'array count');
  now.forEach((a, k) => assertClose(k % 12 < 3 ? NAMES[k % 12] : `array ${k}`, a, golden[k]));
  assert.ok(golden[0].some((hz) => hz > 0) && golden[0].some((hz) => hz === 0), 'the synthetic signal has voiced and unvoiced frames');
});

/** YIN by its definition: the difference function summed directly (O(W^2)), float64 throughout. */
function directYin(x: Float32Array, frameStart: number): number {
  const n = DEFAULT_PITCH_CONFIG.bufferSamples, W = n / 2;
  const start = frameStart + DEFAULT_MEL_CONFIG.frameSamples - n;
  const b = Float64Array.from({ length: n }, (_, i) => (start + i >= 0 && start + i < x.length ? x[start + i] : 0));
  if (b.reduce((s, v) => s + v * v, 0) / n < DEFAULT_PITCH_CONFIG.minMeanSquare) return 0;
  const cmnd = new Float64Array(W);
  cmnd[0] = 1;
  let running = 0;
  for (let tau = 1; tau < W; tau++) {
    let d = 0;
    for (let i = 0; i < W; i++) d += (b[i] - b[i + tau]) ** 2;
    running += d;
    cmnd[tau] = running > 0 ? (d * tau) / running : 1;
  }
  const minLag = Math.max(2, Math.floor(16000 / DEFAULT_PITCH_CONFIG.maxHz));
  let tau = minLag;
  while (tau < W && cmnd[tau] >= DEFAULT_PITCH_CONFIG.threshold) tau++;
  if (tau >= W) return 0;
  while (tau + 1 < W && cmnd[tau + 1] < cmnd[tau]) tau++;
  const den = 2 * (2 * cmnd[tau] - cmnd[tau + 1] - cmnd[tau - 1]);
  const hz = 16000 / (den !== 0 && tau + 1 < W ? tau + (cmnd[tau + 1] - cmnd[tau - 1]) / den : tau);
  return hz >= DEFAULT_PITCH_CONFIG.minHz && hz <= DEFAULT_PITCH_CONFIG.maxHz ? hz : 0;
}

/** Share of frames where FFT YIN and direct YIN agree (both unvoiced, or F0 within 0.5 %). */
function agreement(x: Float32Array): number {
  const f0 = pitchFrames(x, DEFAULT_MEL_CONFIG);
  let same = 0;
  for (let f = 0; f < f0.length; f++) {
    const ref = directYin(x, f * DEFAULT_MEL_CONFIG.hopSamples);
    if ((ref === 0 && f0[f] === 0) || (ref > 0 && Math.abs(f0[f] - ref) <= 0.005 * ref)) same++;
  }
  return same / pitchFrameCount(x.length, DEFAULT_MEL_CONFIG);
}

test('YIN through FFTs equals YIN by its definition (direct difference sums) on >= 99 % of frames: synthetic voice', () => {
  const share = agreement(syntheticSignal());
  assert.ok(share >= 0.99, `agreement ${(100 * share).toFixed(2)} %`);
});

test('YIN through FFTs equals YIN by its definition on >= 99 % of frames: RAVDESS clips (skips without ../shared)', { skip: hasShared() ? false : 'RAVDESS not found under ../shared (EMOSTREAM_SHARED_DIR): skipped' }, () => {
  // Four clips across actors and emotions (sorted by id, the actor last: a stride of 361 walks across both).
  for (const clip of listSpeechClips().filter((_, i) => i % 361 === 0)) {
    const share = agreement(readWav(clip.path).samples);
    assert.ok(share >= 0.99, `${clip.path}: agreement ${(100 * share).toFixed(2)} %`);
  }
});
