import { RealFft } from './real-fft.js';
import type { MelConfig } from './mel-config.js';

/**
 * Frame-synchronous pitch track: one F0 estimate per log-mel frame (same 10 ms hop), by YIN (de Cheveigné &
 * Kawahara 2002; difference function through real FFTs in O(N log N), ~5 µs per frame with PFFFT (14 µs with fft.js;
 * pitchfinder's O(N^2) loop is about 10x slower still, and seeds the cumulative mean with 1 so misfires on quiet input)) on the 512 samples (32 ms) that END
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
  private readonly fft: RealFft;
  private readonly x: Float32Array;
  private readonly prefix: Float64Array;
  /** Packed spectrum of the first half of the buffer (the transform's output is overwritten by the next one). */
  private readonly specA: Float32Array;
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
    this.fft = new RealFft(n);
    this.x = new Float32Array(n);
    this.prefix = new Float64Array(n + 1);
    this.specA = new Float32Array(n);
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
    // Zero only what the samples do not cover (the buffer's head before the stream's start, its tail past the end).
    const from = Math.max(0, start), to = Math.min(samples.length, start + n);
    if (to > from) {
      x.fill(0, 0, from - start);
      x.set(samples.subarray(from, to), from - start);
      x.fill(0, to - start);
    } else {
      x.fill(0);
    }
    const prefix = this.prefix;
    // The running sum stays in a local: reading back prefix[i] just stored made each step wait on the store (3x slower).
    let energy = 0;
    for (let i = 0; i < n; i++) {
      energy += x[i] * x[i];
      prefix[i + 1] = energy;
    }
    this.lastAperiodicity = NaN;
    this.lastMinCmnd = 1;
    if (prefix[n] / n < this.cfg.minMeanSquare) return 0;
    // YIN difference d(tau) = sum_{i<W} (x_i - x_{i+tau})^2 = e(0..W) + e(tau..tau+W) - 2 c(tau), with c the
    // correlation of a = x[0..W) (zero-padded) with b = x[0..2W): c = IFFT(conj(A) B), three real transforms.
    const fft = this.fft;
    let input = fft.input();
    input.set(x.subarray(0, W));
    input.fill(0, W);
    const specA = this.specA;
    specA.set(fft.forward());
    input = fft.input();
    input.set(x);
    const specB = fft.forward();
    // conj(A) B in the packed layout (DC and Nyquist real, then (re, im) pairs), written as the inverse's input.
    input = fft.input();
    input[0] = specA[0] * specB[0];
    input[1] = specA[1] * specB[1];
    for (let k = 2; k < n; k += 2) {
      const ar = specA[k], ai = specA[k + 1], br = specB[k], bi = specB[k + 1];
      input[k] = ar * br + ai * bi;
      input[k + 1] = ar * bi - ai * br;
    }
    const corrTimesN = fft.inverse();
    const cmnd = this.cmnd;
    const e0 = prefix[W];
    const minLag = this.minLag, threshold = this.cfg.threshold;
    cmnd[0] = 1;
    let running = 0;
    // One pass: the CMND, its minimum over the allowed lags, and the first allowed lag below the threshold.
    let minCmnd = 1, firstDip = W;
    for (let tau = 1; tau < W; tau++) {
      const d = Math.max(0, e0 + (prefix[tau + W] - prefix[tau]) - (2 * corrTimesN[tau]) / n);
      running += d;
      const c = running > 0 ? (d * tau) / running : 1;
      cmnd[tau] = c;
      if (tau >= minLag) {
        minCmnd = Math.min(minCmnd, c);
        if (firstDip === W && c < threshold) firstDip = tau;
      }
    }
    this.lastMinCmnd = minCmnd;
    // Absolute threshold: the first dip below it (from the shortest allowed period), followed to its local minimum.
    let tau = firstDip;
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
