import FFT from 'fft.js';
import type { MelConfig } from './mel-config.js';

/**
 * Frame-synchronous pitch track: one F0 estimate per log-mel frame (same 10 ms hop), by YIN (de Cheveigné &
 * Kawahara 2002; difference function through fft.js in O(N log N), ~14 µs per frame, about 10x faster than pitchfinder's O(N^2) loop,
 * which also seeds the cumulative mean with 1 and so misfires on quiet input) on the 512 samples (32 ms) that END
 * where the mel frame ends, so a frame's pitch is known as soon as its log-mel is
 * (the server computes both when the frame's last sample arrives). Lags reach 256 samples: F0 down to 62.5 Hz.
 * Unvoiced frames (no period found, or F0 outside [minHz, maxHz], or a silent buffer) get 0.
 */
export interface PitchConfig {
  /** Samples YIN analyses (a power of two; the integration window and the longest lag are half of it). */
  bufferSamples: number;
  minHz: number;
  maxHz: number;
  /** YIN's absolute threshold on the cumulative mean normalised difference. */
  threshold: number;
  /** Buffers whose mean square is below this (-80 dBFS) are unvoiced without running YIN. */
  minMeanSquare: number;
}

export const DEFAULT_PITCH_CONFIG: Readonly<PitchConfig> = Object.freeze({
  bufferSamples: 512,
  minHz: 65,
  maxHz: 500,
  threshold: 0.15,
  minMeanSquare: 1e-8,
});

export class PitchFrameComputer {
  private readonly half: number;
  private readonly fft: FFT;
  private readonly x: Float32Array;
  private readonly prefix: Float64Array;
  /** Complex (interleaved) input of the packed transform. */
  private readonly a: number[];
  private readonly specA: number[];
  private readonly specB: number[];
  private readonly corr: number[];
  private readonly cmnd: Float64Array;
  private readonly minLag: number;
  /** Voice quality of the last computed frame: CMND at the chosen period (NaN when unvoiced) and its minimum over lags. */
  lastAperiodicity = NaN;
  lastMinCmnd = 1;

  constructor(private readonly mel: MelConfig, private readonly cfg: PitchConfig = DEFAULT_PITCH_CONFIG) {
    const n = cfg.bufferSamples;
    if (!(Number.isInteger(n) && n >= 64 && (n & (n - 1)) === 0)) throw new Error(`pitch bufferSamples must be a power of two >= 64 (got ${n})`);
    this.half = n / 2;
    // Circular correlation of a = x[0..W) (zero-padded) with b = x[0..2W) over 2W points equals the linear one at
    // lags 0..W-1: i + tau <= 2W - 2 never wraps.
    this.fft = new FFT(n);
    this.x = new Float32Array(n);
    this.prefix = new Float64Array(n + 1);
    this.a = this.fft.createComplexArray() as number[];
    this.specA = this.fft.createComplexArray() as number[];
    this.specB = this.fft.createComplexArray() as number[];
    this.corr = this.fft.createComplexArray() as number[];
    this.cmnd = new Float64Array(this.half);
    this.minLag = Math.max(2, Math.floor(mel.sampleRate / cfg.maxHz));
  }

  /**
   * F0 (Hz, 0 = unvoiced) of the mel frame starting at `samples[frameStart]`. The buffer ends at the frame's end;
   * samples before index 0 (`frameStart` near the start of the stream or of the kept history) read as 0.
   */
  compute(samples: Float32Array, frameStart: number): number {
    const n = this.cfg.bufferSamples, W = this.half;
    const start = frameStart + this.mel.frameSamples - n;
    const x = this.x;
    x.fill(0);
    const from = Math.max(0, start), to = Math.min(samples.length, start + n);
    if (to > from) x.set(samples.subarray(from, to), from - start);
    const prefix = this.prefix;
    for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + x[i] * x[i];
    this.lastAperiodicity = NaN;
    this.lastMinCmnd = 1;
    if (prefix[n] / n < this.cfg.minMeanSquare) return 0;
    // YIN difference d(tau) = sum_{i<W} (x_i - x_{i+tau})^2 = e(0..W) + e(tau..tau+W) - 2 c(tau), c by FFT. Both real
    // inputs (a = x[0..W), b = x[0..2W), zero-padded) go through ONE complex transform of a + j b, then are separated.
    const z = this.a, M = n;
    z.fill(0);
    for (let i = 0; i < n; i++) { z[2 * i] = i < W ? x[i] : 0; z[2 * i + 1] = x[i]; }
    const spec = this.specB;
    this.fft.transform(spec, z);
    const prod = this.corr;
    for (let k = 0; k < M; k++) {
      const m = (M - k) % M;
      const zr = spec[2 * k], zi = spec[2 * k + 1], mr = spec[2 * m], mi = spec[2 * m + 1];
      const ar = (zr + mr) / 2, ai = (zi - mi) / 2; // A = (Z_k + conj Z_{-k}) / 2
      const br = (zi + mi) / 2, bi = (mr - zr) / 2; // B = (Z_k - conj Z_{-k}) / 2j
      // conj(A) * B: correlation of a with b at non-negative lags.
      prod[2 * k] = ar * br + ai * bi;
      prod[2 * k + 1] = ar * bi - ai * br;
    }
    const out = this.specA; // reuse as the inverse transform's output
    this.fft.inverseTransform(out, prod);
    const cmnd = this.cmnd;
    const e0 = prefix[W];
    cmnd[0] = 1;
    let running = 0;
    for (let tau = 1; tau < W; tau++) {
      const d = Math.max(0, e0 + (prefix[tau + W] - prefix[tau]) - 2 * out[2 * tau]);
      running += d;
      cmnd[tau] = running > 0 ? (d * tau) / running : 1;
    }
    let minCmnd = 1;
    for (let lag = this.minLag; lag < W; lag++) minCmnd = Math.min(minCmnd, cmnd[lag]);
    this.lastMinCmnd = minCmnd;
    // Absolute threshold: the first dip below it (from the shortest allowed period), followed to its local minimum.
    let tau = this.minLag;
    while (tau < W && cmnd[tau] >= this.cfg.threshold) tau++;
    if (tau >= W) return 0;
    while (tau + 1 < W && cmnd[tau + 1] < cmnd[tau]) tau++;
    const dip = cmnd[tau];
    // Parabolic interpolation of the minimum.
    let refined = tau;
    if (tau > 1 && tau + 1 < W) {
      const s0 = cmnd[tau - 1], s1 = cmnd[tau], s2 = cmnd[tau + 1];
      const den = 2 * (2 * s1 - s2 - s0);
      if (den !== 0) refined = tau + (s2 - s0) / den;
    }
    const hz = this.mel.sampleRate / refined;
    if (!(hz >= this.cfg.minHz && hz <= this.cfg.maxHz)) return 0;
    this.lastAperiodicity = dip;
    return hz;
  }
}

/**
 * F0 in Hz (0 = unvoiced) of every mel frame of `samples` (as many frames as the mel front end makes); with `voice`,
 * also each frame's aperiodicity and CMND minimum (arrays of the frame count, filled in place).
 */
export function pitchFrames(samples: Float32Array, mel: MelConfig, cfg: PitchConfig = DEFAULT_PITCH_CONFIG, voice?: { aperiodicity: Float32Array; minCmnd: Float32Array }): Float32Array {
  const frames = pitchFrameCount(samples.length, mel);
  if (voice && (voice.aperiodicity.length !== frames || voice.minCmnd.length !== frames)) throw new Error(`pitchFrames: voice tracks must hold ${frames} frames`);
  const computer = new PitchFrameComputer(mel, cfg);
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    out[f] = computer.compute(samples, f * mel.hopSamples);
    if (voice) { voice.aperiodicity[f] = computer.lastAperiodicity; voice.minCmnd[f] = computer.lastMinCmnd; }
  }
  return out;
}

/** Frames of `samples` the mel front end (and so the pitch track) makes. */
export function pitchFrameCount(samples: number, mel: MelConfig): number {
  return samples < mel.frameSamples ? 0 : 1 + Math.floor((samples - mel.frameSamples) / mel.hopSamples);
}

/** Samples before a frame's start that its pitch buffer reads (the stream keeps them). */
export function pitchLookbackSamples(mel: MelConfig, cfg: PitchConfig = DEFAULT_PITCH_CONFIG): number {
  return Math.max(0, cfg.bufferSamples - mel.frameSamples);
}

/**
 * Speaker pitch reference: running mean of log2 F0 over voiced frames, seeded with a prior (the training speakers'
 * average) that counts as `priorWeightFrames` voiced frames. Training uses all of a speaker's clips; the server the
 * frames heard so far, as for the log-mel statistics.
 */
export class SpeakerPitchAccumulator {
  private sum: number;
  private count: number;

  constructor(prior?: { meanLog2Hz: number; weightFrames: number }) {
    this.count = prior && prior.weightFrames > 0 ? prior.weightFrames : 0;
    this.sum = prior && prior.weightFrames > 0 ? prior.meanLog2Hz * prior.weightFrames : 0;
  }

  add(hz: number): void {
    if (hz > 0) { this.sum += Math.log2(hz); this.count++; }
  }

  /** Mean log2 F0; `fallback` when nothing voiced (and no prior) has been seen. */
  meanLog2Hz(fallback = Math.log2(150)): number {
    return this.count > 0 ? this.sum / this.count : fallback;
  }
}

/** F0 in semitones relative to the speaker reference, NaN when unvoiced (what the functionals take). */
export function semitones(hz: number, refLog2Hz: number): number {
  return hz > 0 ? 12 * (Math.log2(hz) - refLog2Hz) : NaN;
}
