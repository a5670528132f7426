import { rng } from '../random.js';

export type NoiseColour = 'white' | 'pink' | 'brown';

/** Standard normal draws from a seeded uniform source (Box-Muller). */
function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Seeded coloured noise scaled to an RMS level in dB relative to full scale. Pink: Paul Kellet's refined filter of
 * white noise (-3 dB/octave within ~0.05 dB above 9 Hz at 44.1 kHz; close enough at 16 kHz for augmentation and VAD
 * checks); brown: leaky integral of white noise (-6 dB/octave).
 */
export function colouredNoise(colour: NoiseColour, samples: number, rmsDbfs: number, seed: number): Float32Array {
  const g = gaussian(rng(seed));
  const out = new Float32Array(samples);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, brown = 0;
  for (let i = 0; i < samples; i++) {
    const w = g();
    if (colour === 'white') out[i] = w;
    else if (colour === 'pink') {
      b0 = 0.99886 * b0 + w * 0.0555179; b1 = 0.99332 * b1 + w * 0.0750759; b2 = 0.969 * b2 + w * 0.153852;
      b3 = 0.8665 * b3 + w * 0.3104856; b4 = 0.55 * b4 + w * 0.5329522; b5 = -0.7616 * b5 - w * 0.016898;
      out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
      b6 = w * 0.115926;
    } else {
      brown = 0.995 * brown + w;
      out[i] = brown;
    }
  }
  return scaleToRms(out, rmsDbfs);
}

export function rmsOf(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, x.length));
}

/** Scales `x` in place (mean removed first) to the given RMS in dBFS; all-zero input stays zero. */
export function scaleToRms(x: Float32Array, rmsDbfs: number): Float32Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i] / x.length;
  for (let i = 0; i < x.length; i++) x[i] -= mean;
  const rms = rmsOf(x);
  if (rms === 0) return x;
  const k = 10 ** (rmsDbfs / 20) / rms;
  for (let i = 0; i < x.length; i++) x[i] *= k;
  return x;
}
