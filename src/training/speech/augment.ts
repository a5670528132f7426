import { DEFAULT_MEL_CONFIG, type MelConfig } from '../../features/mel-config.js';
import { melFilterbank } from '../../features/mel.js';
import type { NormStats } from '../../features/speaker-norm.js';

/**
 * Augmentation in the log-mel domain, on cached features (no audio re-synthesis, so an epoch costs milliseconds):
 * time shift (random crop), speed (time resampling of frames), pitch (shift along the mel axis), gain, additive
 * white noise (added as mel power), then SpecAugment time and frequency masks after normalisation.
 */
export interface AugmentConfig {
  speedRange: number;       // tempo factor in [1 - r, 1 + r]
  pitchBands: number;       // mel-axis shift in [-p, p] bands
  /** Vocal-tract-length-style warp: mel axis scaled by a factor in [1 - w, 1 + w] (0 or absent = off). */
  melWarp?: number;
  gainNats: number;         // log-power offset in [-g, g] (1.15 nats = 5 dB)
  noiseProb: number;
  snrDbRange: [number, number];
  timeMasks: number;
  timeMaskFrames: number;
  freqMasks: number;
  freqMaskBands: number;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  speedRange: 0.1,
  pitchBands: 1,
  gainNats: 1.15,
  noiseProb: 0.3,
  snrDbRange: [10, 40],
  timeMasks: 2,
  timeMaskFrames: 20,
  freqMasks: 2,
  freqMaskBands: 4,
};

export const NO_AUGMENT: AugmentConfig = {
  speedRange: 0, pitchBands: 0, gainNats: 0, noiseProb: 0, snrDbRange: [0, 0], timeMasks: 0, timeMaskFrames: 0, freqMasks: 0, freqMaskBands: 0,
};

/** Mel power a unit-variance white noise puts in each band through the Hann-windowed FFT. */
export function whiteNoiseMelPower(cfg: MelConfig = DEFAULT_MEL_CONFIG): Float32Array {
  const fb = melFilterbank(cfg);
  const bins = cfg.fftSize / 2 + 1;
  let w2 = 0;
  for (let i = 0; i < cfg.frameSamples; i++) { const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / cfg.frameSamples); w2 += w * w; }
  const out = new Float32Array(cfg.melBands);
  for (let m = 0; m < cfg.melBands; m++) { let s = 0; for (let k = 0; k < bins; k++) s += fb[m * bins + k]; out[m] = s * w2; }
  return out;
}

/**
 * Writes one normalised training window (outFrames x bands) into `out` at `outOffset`: a random crop of the clip's
 * frames placed like the server would see it (left-padded with the normalised mean, 0, when the clip is shorter).
 */
export function augmentedWindow(
  logMel: Float32Array, frames: number, bands: number, stats: NormStats, outFrames: number,
  aug: AugmentConfig, rand: () => number, noiseMel: Float32Array, out: Float32Array, outOffset: number,
): void {
  const speed = 1 + (rand() * 2 - 1) * aug.speedRange;
  const span = Math.min(frames, Math.round(outFrames * speed)); // source frames covered by the window
  const start = Math.floor(rand() * (frames - span + 1));
  const used = Math.max(1, Math.round(span / speed)); // output frames filled (< outFrames only for short clips)
  const pad = outFrames - Math.min(outFrames, used);
  const pitch = (rand() * 2 - 1) * aug.pitchBands;
  // Drawn only when enabled, so configurations without it keep their exact random stream.
  const warp = (aug.melWarp ?? 0) > 0 ? 1 + (rand() * 2 - 1) * aug.melWarp! : 1;
  const gain = (rand() * 2 - 1) * aug.gainNats;
  let noiseScale = 0;
  if (rand() < aug.noiseProb) {
    // SNR against the clip's mean speech power (mean log-mel over all frames is a fine proxy for the level).
    let s = 0;
    for (let i = 0; i < logMel.length; i++) s += logMel[i];
    const levelNats = s / logMel.length;
    const snrDb = aug.snrDbRange[0] + rand() * (aug.snrDbRange[1] - aug.snrDbRange[0]);
    let nm = 0;
    for (let b = 0; b < bands; b++) nm += noiseMel[b];
    noiseScale = Math.exp(levelNats) / (nm / bands) / 10 ** (snrDb / 10);
  }
  out.fill(0, outOffset, outOffset + outFrames * bands);
  for (let t = 0; t < outFrames - pad; t++) {
    const src = start + (t * span) / Math.max(1, used);
    const i0 = Math.min(frames - 1, Math.floor(src));
    const i1 = Math.min(frames - 1, i0 + 1);
    const ft = src - i0;
    const row = outOffset + (pad + t) * bands;
    for (let b = 0; b < bands; b++) {
      const sb = Math.min(bands - 1, Math.max(0, b * warp - pitch));
      const b0 = Math.floor(sb), b1 = Math.min(bands - 1, b0 + 1), fb = sb - b0;
      const v0 = logMel[i0 * bands + b0] * (1 - fb) + logMel[i0 * bands + b1] * fb;
      const v1 = logMel[i1 * bands + b0] * (1 - fb) + logMel[i1 * bands + b1] * fb;
      let v = v0 * (1 - ft) + v1 * ft + gain;
      if (noiseScale > 0) v = Math.log(Math.exp(v) + noiseScale * noiseMel[b]);
      out[row + b] = (v - stats.mean[b]) / stats.std[b];
    }
  }
  for (let m = 0; m < aug.timeMasks; m++) {
    const w = Math.floor(rand() * (aug.timeMaskFrames + 1));
    const t0 = Math.floor(rand() * (outFrames - w + 1));
    out.fill(0, outOffset + t0 * bands, outOffset + (t0 + w) * bands);
  }
  for (let m = 0; m < aug.freqMasks; m++) {
    const w = Math.floor(rand() * (aug.freqMaskBands + 1));
    const b0 = Math.floor(rand() * (bands - w + 1));
    for (let t = 0; t < outFrames; t++) out.fill(0, outOffset + t * bands + b0, outOffset + t * bands + b0 + w);
  }
}

/** Normalised, un-augmented window of the frames ending at `endFrame` (exclusive), left-padded with 0. */
export function plainWindow(logMel: Float32Array, endFrame: number, bands: number, stats: NormStats, outFrames: number, out: Float32Array, outOffset: number): void {
  const startFrame = endFrame - outFrames;
  for (let t = 0; t < outFrames; t++) {
    const f = startFrame + t;
    const row = outOffset + t * bands;
    if (f < 0) { out.fill(0, row, row + bands); continue; }
    for (let b = 0; b < bands; b++) out[row + b] = (logMel[f * bands + b] - stats.mean[b]) / stats.std[b];
  }
}
