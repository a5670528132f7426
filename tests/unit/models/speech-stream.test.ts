import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';
import { FeatureSpeechStream } from '../../../src/models/speech/feature-stream.js';
import { RawAudioSpeechStream } from '../../../src/models/speech/raw-audio-stream.js';

const bands = DEFAULT_MEL_CONFIG.melBands;
const prior = { mean: new Float32Array(bands).fill(-8), std: new Float32Array(bands).fill(2) };
const make = () => new FeatureSpeechStream({ mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: -14, prior, priorWeightFrames: 300 });
/** Broadband test signal (tone + deterministic noise) loud enough to pass the activity gate. */
const speechy = (n: number) => {
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  return Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin(i / 5) + 0.2 * noise());
};

test('no audio -> null window; a window shorter than the model needs is left-padded with 0 like training', () => {
  const s = make();
  assert.equal(s.window(48000, 48000), null);
  s.push(speechy(16000));
  const w = s.window(16000, 48000)!;
  assert.equal(w.validFrames, 98); // frames complete within 1 s
  assert.ok(w.features.subarray(0, (300 - 98) * bands).every((v) => v === 0));
  assert.ok(w.features.subarray((300 - 98) * bands).some((v) => v !== 0));
  assert.ok(w.activeFrames > 90);
  // A shorter requested window uses only its frames; a longer one is cropped to the model's 300 frames.
  s.push(speechy(48000));
  assert.equal(s.window(64000, 8000)!.validFrames, 50);
  assert.equal(s.window(64000, 96000)!.validFrames, 300);
});

test('an endSample beyond the pushed audio uses the audio there is; bad arguments throw a clear error', () => {
  const s = make();
  s.push(speechy(8000));
  assert.equal(s.window(1e9, 48000)!.validFrames, 48);
  assert.throws(() => s.window(NaN, 48000), /bad endSample/);
  assert.throws(() => s.window(8000, 0), /windowSamples 0/);
});

test('clipping and non-finite samples: clamped / zeroed and counted, features stay finite', () => {
  const s = make();
  const bad = speechy(16000).map((x, i) => (i % 1000 === 0 ? NaN : x * 10));
  s.push(bad);
  const st = s.stats();
  assert.equal(st.nonFiniteSamples, 16);
  assert.ok(st.clampedSamples > 1000);
  const w = s.window(16000, 48000)!;
  assert.ok(w.features.every(Number.isFinite));
});

test('silence: finite windows with no active frame, running statistics stay at the prior', () => {
  const s = make();
  s.push(new Float32Array(48000));
  const w = s.window(48000, 48000)!;
  assert.equal(w.activeFrames, 0);
  assert.ok(w.features.every(Number.isFinite));
  assert.equal(s.stats().speakerFrames, 0);
  s.reset();
  assert.equal(s.window(48000, 48000), null);
});

test('history is bounded: a window entirely older than the kept frames has only the frames still held', () => {
  const s = make();
  s.push(speechy(16000 * 20)); // 20 s, history holds 1000 frames = 10 s
  const w = s.window(16000 * 5, 48000);
  assert.ok(w === null || w.validFrames < 300);
});

test('raw-audio stream: newest samples, left zero padding, per-window normalisation', () => {
  const s = new RawAudioSpeechStream(16000, true);
  assert.equal(s.window(100, 16000), null);
  s.push(Float32Array.from({ length: 4000 }, (_, i) => 0.1 + 0.05 * Math.sin(i)));
  const w = s.window(4000, 16000)!;
  assert.equal(w.validSamples, 4000);
  assert.ok(w.samples.subarray(0, 12000).every((v) => v === 0));
  const valid = w.samples.subarray(12000);
  const mean = valid.reduce((a, b) => a + b) / valid.length;
  const variance = valid.reduce((a, b) => a + (b - mean) ** 2, 0) / valid.length;
  assert.ok(Math.abs(mean) < 1e-4 && Math.abs(variance - 1) < 1e-3);
  s.push(new Float32Array(40000)); // more than the ring holds
  assert.equal(s.stats().samples, 44000);
  assert.equal(s.window(44000, 16000)!.validSamples, 16000);
});
