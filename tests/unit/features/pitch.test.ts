import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';
import { frameCount } from '../../../src/features/mel.js';
import { PitchFrameComputer, SpeakerPitchAccumulator, pitchFrames, pitchFrameCount, pitchLookbackSamples, semitones, DEFAULT_PITCH_CONFIG } from '../../../src/features/pitch.js';

const sr = DEFAULT_MEL_CONFIG.sampleRate;

/** Harmonic tone (6 partials, falling amplitudes) at a fixed F0, like a sustained vowel. */
function harmonic(f0: number, seconds: number, amp = 0.05): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * sr) }, (_, i) => {
    let x = 0;
    for (let h = 1; h <= 6; h++) x += Math.sin((2 * Math.PI * f0 * h * i) / sr) / h;
    return amp * x;
  });
}

test('YIN finds the F0 of harmonic tones across the speech range (within 1 %), one value per mel frame', () => {
  for (const f0 of [80, 110, 150, 220, 330, 440]) {
    const audio = harmonic(f0, 0.5);
    const p = pitchFrames(audio, DEFAULT_MEL_CONFIG);
    assert.equal(p.length, frameCount(audio.length, DEFAULT_MEL_CONFIG));
    // Frames whose 512-sample buffer lies inside the audio (from frame 1 on).
    for (let f = 1; f < p.length; f++) assert.ok(Math.abs(p[f] - f0) / f0 < 0.01, `${f0} Hz: frame ${f} gave ${p[f]}`);
  }
});

test('quiet input is tracked like loud input (pitchfinder\'s YIN misfired on it); silence and white noise are unvoiced', () => {
  const loud = pitchFrames(harmonic(150, 0.3, 0.3), DEFAULT_MEL_CONFIG);
  const quiet = pitchFrames(harmonic(150, 0.3, 0.003), DEFAULT_MEL_CONFIG);
  for (let f = 1; f < loud.length; f++) assert.ok(Math.abs(loud[f] - quiet[f]) < 0.01, `frame ${f}: ${loud[f]} vs ${quiet[f]}`);
  assert.ok(pitchFrames(new Float32Array(8000), DEFAULT_MEL_CONFIG).every((v) => v === 0));
  let s = 7;
  const noise = Float32Array.from({ length: 16000 }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.3);
  const voiced = pitchFrames(noise, DEFAULT_MEL_CONFIG).filter((v) => v > 0).length;
  assert.ok(voiced < 5, `${voiced} of 98 noise frames voiced`);
});

test('a frame\'s pitch reads only samples up to the frame\'s end (causal, so the server has it with the log-mel frame)', () => {
  const audio = harmonic(200, 0.2);
  const c = new PitchFrameComputer(DEFAULT_MEL_CONFIG);
  const f = 10, end = f * DEFAULT_MEL_CONFIG.hopSamples + DEFAULT_MEL_CONFIG.frameSamples;
  const truncated = audio.slice(0, end);
  assert.equal(c.compute(audio, f * DEFAULT_MEL_CONFIG.hopSamples), c.compute(truncated, f * DEFAULT_MEL_CONFIG.hopSamples));
  assert.equal(pitchLookbackSamples(DEFAULT_MEL_CONFIG), DEFAULT_PITCH_CONFIG.bufferSamples - DEFAULT_MEL_CONFIG.frameSamples);
  assert.throws(() => new PitchFrameComputer(DEFAULT_MEL_CONFIG, { ...DEFAULT_PITCH_CONFIG, bufferSamples: 500 }), /power of two/);
});

test('speaker pitch reference: prior counts as its weight in voiced frames; semitones are relative to it, NaN when unvoiced', () => {
  const acc = new SpeakerPitchAccumulator({ meanLog2Hz: Math.log2(100), weightFrames: 2 });
  assert.equal(acc.meanLog2Hz(), Math.log2(100));
  acc.add(400); acc.add(400); acc.add(0);
  assert.ok(Math.abs(acc.meanLog2Hz() - Math.log2(200)) < 1e-12); // (2 log2 100 + 2 log2 400) / 4
  assert.equal(new SpeakerPitchAccumulator().meanLog2Hz(123), 123);
  assert.ok(Math.abs(semitones(200, Math.log2(100)) - 12) < 1e-12);
  assert.ok(Number.isNaN(semitones(0, 7)));
});

test('voice-quality tracks: aperiodicity only where voiced (low for a clean tone, higher with noise), CMND minimum 1 for silence', () => {
  const sr16 = DEFAULT_MEL_CONFIG.sampleRate;
  let seed = 5;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  const clean = harmonic(150, 0.4);
  const noisy = Float32Array.from(clean, (x) => x + 0.02 * noise());
  const silence = new Float32Array(Math.round(0.2 * sr16));
  const tracks = (audio: Float32Array) => {
    const n = pitchFrameCount(audio.length, DEFAULT_MEL_CONFIG);
    const v = { aperiodicity: new Float32Array(n), minCmnd: new Float32Array(n) };
    return { hz: pitchFrames(audio, DEFAULT_MEL_CONFIG, DEFAULT_PITCH_CONFIG, v), ...v };
  };
  const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;
  const c = tracks(clean), z = tracks(noisy), q = tracks(silence);
  for (const t of [c, z]) {
    for (let f = 1; f < t.hz.length; f++) {
      assert.ok(t.hz[f] > 0, 'voiced');
      assert.ok(t.aperiodicity[f] >= 0 && t.aperiodicity[f] < DEFAULT_PITCH_CONFIG.threshold && t.minCmnd[f] <= t.aperiodicity[f] + 1e-7);
    }
  }
  assert.ok(mean(c.aperiodicity.subarray(1)) < 0.02 && mean(z.aperiodicity.subarray(1)) > 2 * mean(c.aperiodicity.subarray(1)), 'noise raises the aperiodicity');
  assert.ok(q.hz.every((h) => h === 0) && q.aperiodicity.every(Number.isNaN) && q.minCmnd.every((m) => m === 1));
  assert.throws(() => pitchFrames(clean, DEFAULT_MEL_CONFIG, DEFAULT_PITCH_CONFIG, { aperiodicity: new Float32Array(1), minCmnd: new Float32Array(1) }), /voice tracks must hold/);
  // The computer exposes the same values frame by frame (what the server's stream reads).
  const comp = new PitchFrameComputer(DEFAULT_MEL_CONFIG);
  comp.compute(clean, 10 * DEFAULT_MEL_CONFIG.hopSamples);
  assert.equal(Math.fround(comp.lastAperiodicity), c.aperiodicity[10]);
  assert.equal(Math.fround(comp.lastMinCmnd), c.minCmnd[10]);
});
