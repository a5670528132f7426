import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeWav } from '../../../src/features/wav.js';
import { rng } from '../../../src/training/random.js';
import { rmsOf } from '../../../src/training/speech/noise.js';
import {
  addBabble, addColouredNoise, applyGain, augmentWave, changeSpeed, opusRoundTrip, reverberate, snrDb, syntheticRir, telephoneBand, DEFAULT_WAVE_AUGMENT,
} from '../../../src/training/speech/wave-augment.js';

const speech = () => decodeWav(readFileSync('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav')).samples;
const sine = (hz: number, n = 16000, a = 0.3) => Float32Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * hz * i) / 16000));
const db = (x: number) => 20 * Math.log10(x);

test('coloured noise and babble land at the SNR asked for (5, 12.5, 20 dB)', () => {
  const x = speech();
  const others = [sine(180, 30000), sine(240, 20000), speech().map((v) => -v)];
  for (const snr of [5, 12.5, 20]) {
    for (const colour of ['white', 'pink', 'brown'] as const) {
      const y = addColouredNoise(x, colour, snr, 11);
      assert.ok(Math.abs(snrDb(x, y.map((v, i) => v - x[i])) - snr) < 0.01, `${colour} at ${snr} dB`);
    }
    const b = addBabble(x, others, snr, rng(2));
    assert.ok(Math.abs(snrDb(x, b.map((v, i) => v - x[i])) - snr) < 0.01, `babble at ${snr} dB`);
  }
});

test('gain: +-10 dB changes the RMS by that much (clamped to [-1, 1])', () => {
  const x = sine(300);
  for (const g of [-10, -3, 6, 10]) assert.ok(Math.abs(db(rmsOf(applyGain(x, g)) / rmsOf(x)) - g) < 0.01, `${g} dB`);
  assert.ok(applyGain(sine(300, 1000, 0.9), 10).every((v) => Math.abs(v) <= 1));
});

test('speed 0.9 / 1.1: length divided by the factor, a tone moves by the factor', () => {
  for (const f of [0.9, 1.1]) {
    const y = changeSpeed(sine(500, 16000), f);
    assert.ok(Math.abs(y.length - 16000 / f) <= 1, `length ${y.length}`);
    // Zero crossings count the frequency: 500 Hz * f over y's duration.
    let zc = 0;
    for (let i = 1; i < y.length; i++) if ((y[i - 1] < 0) !== (y[i] < 0)) zc++;
    const hz = zc / 2 / (y.length / 16000);
    assert.ok(Math.abs(hz - 500 * f) < 3, `tone at ${hz} Hz, expected ${500 * f}`);
  }
});

test('reverb: the synthetic RIR decays by 60 dB over rt60, and an impulse through it carries the tail', () => {
  const rir = syntheticRir(0.5, rng(5));
  assert.equal(rir.length, 8000);
  const early = rmsOf(rir.subarray(200, 1000)), late = rmsOf(rir.subarray(7000, 8000));
  assert.ok(db(early / late) > 35, `tail decays (${db(early / late).toFixed(1)} dB between 12-62 ms and 440-500 ms)`);
  const click = new Float32Array(16000);
  click[100] = 0.5;
  const y = reverberate(click, rir);
  assert.equal(y.length, 16000);
  assert.ok(rmsOf(y.subarray(1000, 4000)) > 0, 'energy after the click: the room');
  assert.ok(Math.abs(rmsOf(y) - rmsOf(click)) < 1e-3, 'same RMS as the input');
});

test('Opus round trip: same length, aligned to the input, closer at 32 than at 16 kbit/s', () => {
  const x = speech();
  const err = (kbps: number) => {
    const y = opusRoundTrip(x, kbps);
    assert.equal(y.length, x.length);
    return snrDb(x, y.map((v, i) => v - x[i]));
  };
  const s16 = err(16), s32 = err(32);
  assert.ok(s16 > 3, `16 kbit/s: waveform SNR ${s16.toFixed(1)} dB (aligned: a misaligned decode is ~0 dB)`);
  assert.ok(s32 > s16, `32 kbit/s (${s32.toFixed(1)} dB) better than 16 (${s16.toFixed(1)} dB)`);
});

test('telephone band: 1 kHz passes, 100 Hz and 6 kHz are cut by > 20 dB', () => {
  const gain = (hz: number) => db(rmsOf(telephoneBand(sine(hz, 32000)).subarray(8000)) / rmsOf(sine(hz, 24000)));
  assert.ok(Math.abs(gain(1000)) < 1, `1 kHz: ${gain(1000).toFixed(2)} dB`);
  assert.ok(gain(100) < -20, `100 Hz: ${gain(100).toFixed(1)} dB`);
  assert.ok(gain(6000) < -20, `6 kHz: ${gain(6000).toFixed(1)} dB`);
  assert.ok(gain(300) < -2 && gain(300) > -9, `300 Hz edge: ${gain(300).toFixed(1)} dB`);
});

test('augmentWave: each switch works alone; all off returns the input', () => {
  const x = speech();
  const off = { ...DEFAULT_WAVE_AUGMENT, noise: false, babble: false, gain: false, speed: false, reverb: false, opus: false, telephone: false };
  assert.equal(augmentWave(x, off, rng(1), [], 1), x);
  const only = (k: keyof typeof off) => augmentWave(x, { ...off, [k]: true }, rng(1), [x, x, x], 1);
  assert.notEqual(only('speed').length, x.length);
  for (const k of ['noise', 'babble', 'gain', 'reverb', 'opus', 'telephone'] as const) {
    const y = only(k);
    assert.equal(y.length, x.length, k);
    assert.ok(y.some((v, i) => Math.abs(v - x[i]) > 1e-4), `${k} changed the audio`);
  }
});
