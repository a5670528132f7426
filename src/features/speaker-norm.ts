/**
 * Per-speaker standardisation of log-mel frames (worth ~12 points on RAVDESS, DESIGN.md section 5).
 * Statistics are accumulated only over active frames (mean log-mel above a gate), so leading/trailing silence and
 * digital zeros do not drag the mean down. Training uses the statistics of all of a speaker's clips; the server uses
 * the same accumulator causally (only frames already heard), started from a prior fitted on the training speakers.
 */
export interface NormStats {
  mean: Float32Array;
  std: Float32Array;
}

/** Frames whose mean log-mel (nats) is at or below this are not speech: RAVDESS room noise sits near -16, speech above -12. */
export const DEFAULT_ACTIVITY_GATE = -14;
/** Lower bound on a band's standard deviation so near-constant bands (e.g. digital silence) stay finite. */
export const MIN_STD = 0.1;

export function isActiveFrame(frames: Float32Array, offset: number, bands: number, gate = DEFAULT_ACTIVITY_GATE): boolean {
  let s = 0;
  for (let b = 0; b < bands; b++) s += frames[offset + b];
  return s / bands > gate;
}

/** Running per-band mean/variance over active frames (Chan/Welford in float64), optionally seeded by a prior. */
export class SpeakerStatsAccumulator {
  private count = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly bands: number, readonly gate = DEFAULT_ACTIVITY_GATE, prior?: { stats: NormStats; weightFrames: number }) {
    this.mean = new Float64Array(bands);
    this.m2 = new Float64Array(bands);
    if (prior && prior.weightFrames > 0) {
      this.count = prior.weightFrames;
      for (let b = 0; b < bands; b++) {
        this.mean[b] = prior.stats.mean[b];
        this.m2[b] = prior.stats.std[b] * prior.stats.std[b] * prior.weightFrames;
      }
    }
  }

  /** Adds the frame at `frames[offset..offset+bands)` if it is active; returns whether it was used. */
  add(frames: Float32Array, offset: number): boolean {
    if (!isActiveFrame(frames, offset, this.bands, this.gate)) return false;
    this.count++;
    for (let b = 0; b < this.bands; b++) {
      const x = frames[offset + b];
      const d = x - this.mean[b];
      this.mean[b] += d / this.count;
      this.m2[b] += d * (x - this.mean[b]);
    }
    return true;
  }

  addAll(frames: Float32Array): void {
    for (let o = 0; o + this.bands <= frames.length; o += this.bands) this.add(frames, o);
  }

  get frames(): number {
    return this.count;
  }

  /** Current statistics; throws when nothing (no prior, no active frame) has been seen. */
  stats(): NormStats {
    if (this.count === 0) throw new Error('speaker statistics: no active frames and no prior');
    const mean = new Float32Array(this.bands);
    const std = new Float32Array(this.bands);
    for (let b = 0; b < this.bands; b++) {
      mean[b] = this.mean[b];
      std[b] = Math.max(MIN_STD, Math.sqrt(this.m2[b] / this.count));
    }
    return { mean, std };
  }
}

/** (x - mean) / std per band, into `out` (may alias `frames`). */
export function applyNorm(frames: Float32Array, stats: NormStats, out = new Float32Array(frames.length)): Float32Array {
  const bands = stats.mean.length;
  for (let i = 0; i < frames.length; i++) {
    const b = i % bands;
    out[i] = (frames[i] - stats.mean[b]) / stats.std[b];
  }
  return out;
}
