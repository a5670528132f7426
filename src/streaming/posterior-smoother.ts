import { EMOTIONS } from '../protocol/labels.js';

export interface PosteriorSmootherOptions {
  /** Time for an old posterior's weight to halve. 0 turns smoothing off (the smoothed posterior is the raw one). */
  halfLifeMs: number;
  /**
   * Hysteresis: the smoothed label changes only when another class's smoothed probability exceeds the current label's
   * by at least this much, so a near tie does not flip the label every hop.
   */
  switchMargin: number;
}

export interface SmoothedPosterior {
  probs: number[];
  label: string;
}

export const DEFAULT_SMOOTHING: PosteriorSmootherOptions = { halfLifeMs: 2000, switchMargin: 0.1 };

/**
 * Exponential smoothing of a stream of posteriors over time, with a sticky label. The weight of the newest posterior is
 * 1 - 2^(-dt / halfLife), so it depends on the time between updates, not on how many there were: a hop of 500 ms and a
 * half-life of 2 s give 0.16, and after a gap of many half-lives the newest posterior takes over. One instance per
 * stream (a session's fused posterior, one face track); not shared.
 */
export class PosteriorSmoother {
  private probs: Float64Array | null = null;
  private labelIndex = -1;
  private lastMs = 0;

  constructor(private readonly options: PosteriorSmootherOptions = DEFAULT_SMOOTHING) {
    if (!(options.halfLifeMs >= 0) || !Number.isFinite(options.halfLifeMs)) throw new RangeError(`halfLifeMs must be a finite number >= 0, got ${options.halfLifeMs}`);
    if (!(options.switchMargin >= 0 && options.switchMargin < 1)) throw new RangeError(`switchMargin must be in [0, 1), got ${options.switchMargin}`);
  }

  /** Folds in one posterior observed at `atMs` (a monotonic time: the window's end) and returns the smoothed state. */
  update(raw: ArrayLike<number>, atMs: number): SmoothedPosterior {
    if (raw.length !== EMOTIONS.length) throw new RangeError(`posterior has ${raw.length} values, expected ${EMOTIONS.length}`);
    if (this.probs === null) {
      this.probs = Float64Array.from(raw);
    } else {
      const dtMs = Math.max(0, atMs - this.lastMs);
      const weight = this.options.halfLifeMs === 0 ? 1 : 1 - Math.pow(2, -dtMs / this.options.halfLifeMs);
      for (let i = 0; i < this.probs.length; i++) this.probs[i] += weight * (raw[i] - this.probs[i]);
    }
    this.lastMs = atMs;
    this.labelIndex = this.nextLabel(this.probs);
    return this.current()!;
  }

  /** The smoothed state after the last update, or null before the first. */
  current(): SmoothedPosterior | null {
    if (this.probs === null) return null;
    return { probs: Array.from(this.probs, (p) => Math.round(p * 1e6) / 1e6), label: EMOTIONS[this.labelIndex] };
  }

  /** Forgets everything (a face track lost, a session restarted). */
  reset(): void {
    this.probs = null;
    this.labelIndex = -1;
  }

  private nextLabel(p: Float64Array): number {
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    if (this.labelIndex < 0 || best === this.labelIndex) return best;
    return p[best] - p[this.labelIndex] >= this.options.switchMargin ? best : this.labelIndex;
  }
}
