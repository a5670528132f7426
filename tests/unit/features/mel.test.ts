import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';
import { frameCount, logMelFrames, melFilterbank } from '../../../src/features/mel.js';
import { decodeWav } from '../../../src/features/wav.js';
import { FeatureSpeechStream } from '../../../src/models/speech/feature-stream.js';
import { applyNorm } from '../../../src/features/speaker-norm.js';
import { speechLikeSignal } from '../../helpers/synthetic.js';

const cfg = DEFAULT_MEL_CONFIG;
const bands = cfg.melBands;

function tone(hz: number, seconds: number, amp = 0.3): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / 16000));
}

test('mel filterbank: 40 triangles over 257 bins, each non-empty and peaking at 1 or below', () => {
  const fb = melFilterbank(cfg);
  assert.equal(fb.length, bands * (cfg.fftSize / 2 + 1));
  for (let m = 0; m < bands; m++) {
    const row = fb.subarray(m * 257, (m + 1) * 257);
    const max = Math.max(...row);
    assert.ok(max > 0 && max <= 1, `band ${m} max ${max}`);
  }
});

test('frame count follows the 25 ms / 10 ms contract (3 s = 298 frames)', () => {
  assert.equal(frameCount(48000), 298);
  assert.equal(frameCount(399), 0);
  assert.equal(frameCount(400), 1);
});

test('a 1 kHz tone peaks in the mel band containing 1 kHz, far above a 4 kHz band', () => {
  const f = logMelFrames(tone(1000, 0.5));
  const frame = f.subarray(10 * bands, 11 * bands);
  const peak = frame.indexOf(Math.max(...frame));
  const hzToMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
  const expected = Math.round(((hzToMel(1000) - hzToMel(20)) / (hzToMel(8000) - hzToMel(20))) * (bands + 1)) - 1;
  assert.ok(Math.abs(peak - expected) <= 1, `peak band ${peak}, expected about ${expected}`);
  assert.ok(frame[peak] - frame[bands - 5] > 10, 'tone energy well above the high bands');
});

test('digital silence gives finite features at the log floor', () => {
  const f = logMelFrames(new Float32Array(8000));
  assert.ok(f.every((v) => Number.isFinite(v)));
  assert.ok(Math.abs(f[0] - Math.log(cfg.logFloor)) < 1e-3);
});

test('server-side features equal training features: incremental stream (odd chunk sizes) = batch front end + normaliser', () => {
  const audio = speechLikeSignal(4.2);
  const prior = { mean: Float32Array.from({ length: bands }, (_, b) => -8 + b * 0.05), std: Float32Array.from({ length: bands }, (_, b) => 2 + b * 0.01) };
  // A gate no frame passes keeps the running statistics at the prior, so both paths normalise identically.
  const stream = new FeatureSpeechStream({ mel: cfg, windowFrames: 300, activityGate: 1e9, prior, priorWeightFrames: 300 });
  let at = 0;
  for (const size of [1, 159, 160, 401, 7999, 3, 20000]) { stream.push(audio.subarray(at, at + size)); at += size; }
  stream.push(audio.subarray(at));
  const batch = applyNorm(logMelFrames(audio), prior);
  const n = frameCount(audio.length);
  const w = stream.window(audio.length, 48000);
  assert.ok(w);
  assert.equal(w.validFrames, 300);
  const expected = batch.subarray((n - 300) * bands, n * bands);
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - w.features[i]));
  assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
});

test('WAV decoder: 16-bit PCM round trip, and clear errors for other encodings', () => {
  const samples = [0, 16384, -32768, 32767];
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + samples.length * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(16000, 24); buf.writeUInt32LE(32000, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(samples.length * 2, 40);
  samples.forEach((s, i) => buf.writeInt16LE(s, 44 + i * 2));
  const wav = decodeWav(buf);
  assert.equal(wav.sampleRate, 16000);
  assert.deepEqual(Array.from(wav.samples), [0, 0.5, -1, 32767 / 32768]);
  buf.writeUInt16LE(8, 34);
  assert.throws(() => decodeWav(buf, 'x.wav'), /x\.wav: unsupported WAV encoding/);
  assert.throws(() => decodeWav(Buffer.from('not a wav at all'), 'y.wav'), /y\.wav: not a RIFF\/WAVE file/);
});
