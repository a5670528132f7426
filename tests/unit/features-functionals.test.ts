import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MEL_CONFIG } from '../../src/features/mel-config.js';
import { frameCount, logMelFrames } from '../../src/features/mel.js';
import { pitchFrames, DEFAULT_PITCH_CONFIG } from '../../src/features/pitch.js';
import { FUNCTIONAL_COUNT, windowFunctionals } from '../../src/features/functionals.js';
import { FeatureSpeechStream } from '../../src/models/speech/feature-stream.js';
import { windowFunctionalsAt } from '../../src/training/speech/functional-data.js';
import { speechLikeSignal } from '../helpers/synthetic.js';

const bands = DEFAULT_MEL_CONFIG.melBands;
// Offsets of the groups in the functionals vector.
const ENERGY = 3 * bands, PITCH = 3 * bands + 9;

test('functionals of a known window: band means/stds, energy percentiles and slope, pitch statistics and voicing', () => {
  const T = 100;
  const win = new Float32Array(T * bands);
  // Band b: constant b / 10 plus, in band 0 only, an alternating +-1 (std 1, first-difference std ~2).
  for (let t = 0; t < T; t++) for (let b = 0; b < bands; b++) win[t * bands + b] = b / 10 + (b === 0 ? (t % 2 ? 1 : -1) : 0);
  // Pitch: rising 1 semitone per 10 frames (10 st/s) on the first half, unvoiced after.
  const st = Float32Array.from({ length: T }, (_, t) => (t < 50 ? t / 10 : NaN));
  const out = new Float32Array(FUNCTIONAL_COUNT + 2).fill(-99);
  windowFunctionals(win, st, T, bands, out, 1);
  assert.equal(out[0], -99);
  assert.equal(out[FUNCTIONAL_COUNT + 1], -99);
  const f = out.subarray(1, 1 + FUNCTIONAL_COUNT);
  assert.ok(Math.abs(f[0]) < 1e-6 && Math.abs(f[5] - 0.5) < 1e-6); // band means
  assert.ok(Math.abs(f[bands] - 1) < 1e-6 && f[bands + 5] < 1e-6); // band stds
  assert.ok(Math.abs(f[2 * bands] - 2) < 1e-6 && f[2 * bands + 5] < 1e-6); // first-difference stds
  const meanEnergy = (39 * 40) / 2 / 10 / bands;
  assert.ok(Math.abs(f[ENERGY] - meanEnergy) < 1e-5);
  assert.ok(Math.abs(f[ENERGY + 5]) < 0.01, 'no energy slope (the alternation gives ~0.0015 / s)');
  assert.ok(Math.abs(f[PITCH] - 0.5) < 1e-9, 'voiced fraction');
  assert.ok(Math.abs(f[PITCH + 1] - 2.45) < 1e-5, 'pitch mean');
  assert.ok(Math.abs(f[PITCH + 6] - 10) < 1e-4, 'pitch slope in semitones per second');
  assert.ok(Math.abs(f[PITCH + 7] - 0.1) < 1e-6, 'mean frame-to-frame change');
  // Fewer than 3 voiced frames: pitch statistics are 0, only the voiced fraction is kept.
  windowFunctionals(win, new Float32Array(T).fill(NaN), T, bands, out, 0);
  assert.ok(out.subarray(PITCH, FUNCTIONAL_COUNT).every((v) => v === 0));
  assert.ok(out.subarray(0, FUNCTIONAL_COUNT).every(Number.isFinite));
});


test('server-side functionals equal training functionals: incremental stream with pitch (odd chunks) = batch pitch + log-mel', () => {
  const prior = { mean: Float32Array.from({ length: bands }, (_, b) => -8 + b * 0.05), std: Float32Array.from({ length: bands }, (_, b) => 2 + b * 0.01) };
  const priorLog2Hz = Math.log2(130);
  // A gate no frame passes and a pitch prior of huge weight keep both running references at their priors, so both paths
  // normalise identically.
  const stream = new FeatureSpeechStream({
    mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: 1e9, prior, priorWeightFrames: 300,
    pitch: { config: DEFAULT_PITCH_CONFIG, priorLog2Hz, priorWeightFrames: 1e15 },
  });
  for (const [seconds, endAt] of [[4.2, 0], [1.7, 1]] as const) {
    stream.reset();
    const audio = speechLikeSignal(seconds, endAt + 3);
    let at = 0;
    for (const size of [1, 111, 159, 160, 401, 7999, 3, 20000]) { stream.push(audio.subarray(at, at + size)); at += size; }
    stream.push(audio.subarray(at));
    const n = frameCount(audio.length);
    const w = stream.window(audio.length, 48000);
    assert.ok(w?.functionals, 'a stream with pitch hands out functionals');
    const expected = new Float32Array(FUNCTIONAL_COUNT);
    windowFunctionalsAt(logMelFrames(audio), pitchFrames(audio, DEFAULT_MEL_CONFIG), prior, priorLog2Hz, n, 300, expected, 0);
    let maxDiff = 0;
    for (let i = 0; i < FUNCTIONAL_COUNT; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - w.functionals[i]));
    assert.ok(maxDiff < 1e-4, `${seconds} s: max difference ${maxDiff}`);
    assert.ok(expected[PITCH] > 0.3, 'the synthetic voice is mostly voiced');
  }
  // Without `pitch` the stream is unchanged (no functionals, same features).
  const plain = new FeatureSpeechStream({ mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: 1e9, prior, priorWeightFrames: 300 });
  const audio = speechLikeSignal(3.5);
  plain.push(audio);
  stream.reset();
  stream.push(audio);
  const a = plain.window(audio.length, 48000)!, b = stream.window(audio.length, 48000)!;
  assert.equal(a.functionals, undefined);
  assert.deepEqual(a.features, b.features);
});
