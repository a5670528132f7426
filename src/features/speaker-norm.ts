/**
 * Per-speaker standardisation of log-mel frames (worth ~12 points on RAVDESS, DESIGN.md section 5).
 * Statistics are accumulated only over active frames (mean log-mel above a gate), so leading/trailing silence and
 * digital zeros do not drag the mean down. Training uses the statistics of all of a speaker's clips; the server uses
 * the same accumulator causally (only frames already heard), started from a prior fitted on the training speakers.
 */
import { RunningMeanVar, type MeanStd } from './running-stats.js';

export type NormStats = MeanStd;

/** Frames whose mean log-mel (nats) is at or below this are not speech: RAVDESS room noise sits near -16, speech above -12. */
export const DEFAULT_ACTIVITY_GATE = -14;
/** Lower bound on a band's standard deviation so near-constant bands (e.g. digital silence) stay finite. */
export const MIN_STD = 0.1;

export function isActiveFrame(frames: Float32Array, offset: number, bands: number, gate = DEFAULT_ACTIVITY_GATE): boolean {
  let s = 0;
  for (let b = 0; b < bands; b++) s += frames[offset + b];
  return s / bands > gate;
}

/** Running per-band mean/variance over active frames, optionally seeded by a prior. */
export class SpeakerStatsAccumulator {
  private readonly acc: RunningMeanVar;

  constructor(readonly bands: number, readonly gate = DEFAULT_ACTIVITY_GATE, prior?: { stats: NormStats; weightFrames: number }) {
    this.acc = new RunningMeanVar(bands, prior && { mean: prior.stats.mean, std: prior.stats.std, weight: prior.weightFrames });
  }

  /** Adds the frame at `frames[offset..offset+bands)` if it is active; returns whether it was used. */
  add(frames: Float32Array, offset: number): boolean {
    if (!isActiveFrame(frames, offset, this.bands, this.gate)) return false;
    this.acc.add(frames, offset);
    return true;
  }

  addAll(frames: Float32Array): void {
    for (let o = 0; o + this.bands <= frames.length; o += this.bands) this.add(frames, o);
  }

  get frames(): number {
    return this.acc.count;
  }

  /** Current statistics; throws when nothing (no prior, no active frame) has been seen. */
  stats(): NormStats {
    return this.acc.stats(MIN_STD, 'speaker statistics: no active frames and no prior');
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
