import { test } from 'node:test';
import assert from 'node:assert/strict';
import FFT from 'fft.js';
import { DEFAULT_MEL_CONFIG, type MelConfig } from '../../../src/features/mel-config.js';
import { logMelFrames, melFilterbank, sparseFilterbank } from '../../../src/features/mel.js';

const cfg = DEFAULT_MEL_CONFIG;

/**
 * The dense float64 reference front end (the original implementation, on fft.js): every band sums over all 257 bins,
 * skipping zeros. The shipped front end differs from it by its float32 FFT (PFFFT) only.
 */
function denseLogMel(samples: Float32Array, c: MelConfig): Float32Array {
  const fft = new FFT(c.fftSize);
  const win = Float32Array.from({ length: c.frameSamples }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / c.frameSamples));
  const fb = melFilterbank(c);
  const bins = c.fftSize / 2 + 1;
  const input = new Array<number>(c.fftSize).fill(0);
  const spectrum = fft.createComplexArray() as number[];
  const power = new Float32Array(bins);
  const n = samples.length < c.frameSamples ? 0 : Math.floor((samples.length - c.frameSamples) / c.hopSamples) + 1;
  const out = new Float32Array(n * c.melBands);
  for (let f = 0; f < n; f++) {
    const start = f * c.hopSamples;
    for (let i = 0; i < c.frameSamples; i++) input[i] = samples[start + i] * win[i];
    for (let i = c.frameSamples; i < c.fftSize; i++) input[i] = 0;
    fft.realTransform(spectrum, input);
    for (let k = 0; k < bins; k++) power[k] = spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2;
    for (let m = 0; m < c.melBands; m++) {
      let s = 0;
      for (let k = 0; k < bins; k++) {
        const w = fb[m * bins + k];
        if (w !== 0) s += w * power[k];
      }
      out[f * c.melBands + m] = Math.log(s + c.logFloor);
    }
  }
  return out;
}

/** Broadband deterministic signal (harmonics + noise + silence + clipping) so every band and the floor are exercised. */
function signal(seconds: number): Float32Array {
  let s = 7;
  const noise = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  return Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => {
    const t = i / 16000;
    if (t > 1 && t < 1.2) return 0;
    let x = 0;
    for (let h = 1; h <= 30; h++) x += Math.sin(2 * Math.PI * (120 + 30 * t) * h * t) / h;
    return Math.max(-1, Math.min(1, 0.3 * x + 0.05 * noise()));
  });
}

test('sparse filterbank holds exactly the non-zero dense weights, in bin order, each bin under at most two bands', () => {
  const dense = melFilterbank(cfg);
  const bins = cfg.fftSize / 2 + 1;
  const sp = sparseFilterbank(dense, cfg.melBands);
  assert.equal(sp.offsets.length, cfg.melBands + 1);
  assert.equal(sp.offsets[cfg.melBands], dense.filter((w) => w !== 0).length);
  const perBin = new Uint8Array(bins);
  for (let m = 0; m < cfg.melBands; m++) {
    assert.ok(sp.offsets[m + 1] > sp.offsets[m], `band ${m} has weights`);
    for (let j = sp.offsets[m]; j < sp.offsets[m + 1]; j++) {
      if (j > sp.offsets[m]) assert.ok(sp.bins[j] > sp.bins[j - 1], 'ascending bins');
      assert.equal(sp.weights[j], dense[m * bins + sp.bins[j]]);
      perBin[sp.bins[j]]++;
    }
  }
  assert.ok(perBin.every((c) => c <= 2));
  assert.ok(sp.weights.length <= 2 * bins);
});

test('log-mel front end (sparse filterbank, float32 PFFFT) equals the dense float64 reference within 1e-3 nats', () => {
  for (const c of [cfg, { ...cfg, melBands: 64, fMinHz: 0 }, { ...cfg, fftSize: 1024, frameSamples: 640, melBands: 80 }]) {
    const audio = signal(2.5);
    const got = logMelFrames(audio, c);
    const want = denseLogMel(audio, c);
    assert.equal(got.length, want.length);
    let maxAbs = 0, floorMismatch = 0;
    const floor = Math.fround(Math.log(c.logFloor));
    for (let i = 0; i < want.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
      // Digital silence must land exactly on the floor in both (the stream's activity gate and the prior rely on it).
      if ((want[i] === floor) !== (got[i] === floor)) floorMismatch++;
    }
    assert.ok(maxAbs < 1e-3, `max |difference| ${maxAbs} nats (melBands ${c.melBands}, fft ${c.fftSize})`);
    assert.equal(floorMismatch, 0, `${floorMismatch} values on the log floor in one front end only`);
  }
});
