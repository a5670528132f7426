import { GEOMETRY_LENGTH } from './au-geometry.js';

export interface BaselineOptions {
  /** Frames of history per track (at 10 fps, 300 = 30 s). */
  historyFrames: number;
  /** Weight of the population prior, in frames: after this many frames the person's own median weighs as much. */
  priorWeightFrames: number;
  /** The population's resting geometry (GEOMETRY_FEATURES order). */
  prior: Float32Array;
}

/**
 * Per-track neutral calibration, the geometric counterpart of OpenFace's person-specific normalisation (OpenFace
 * subtracts the running median of a person's appearance descriptor): the baseline of each measurement is the median
 * of this person's recent frames, shrunk towards the population's resting face while the history is short.
 * Frames with the head turned far away do not update it (their measurements are least reliable).
 */
export class NeutralBaseline {
  private readonly history: Float32Array;
  private count = 0;
  private next = 0;
  private cached: Float32Array | null = null;

  constructor(private readonly opts: BaselineOptions) {
    if (opts.prior.length !== GEOMETRY_LENGTH) throw new Error(`baseline prior must have ${GEOMETRY_LENGTH} values`);
    this.history = new Float32Array(opts.historyFrames * GEOMETRY_LENGTH);
  }

  push(features: Float32Array): void {
    this.history.set(features, this.next * GEOMETRY_LENGTH);
    this.next = (this.next + 1) % this.opts.historyFrames;
    this.count = Math.min(this.count + 1, this.opts.historyFrames);
    this.cached = null;
  }

  frames(): number {
    return this.count;
  }

  /** The resting value of every measurement for this person now. */
  baseline(): Float32Array {
    if (this.cached) return this.cached;
    const out = new Float32Array(GEOMETRY_LENGTH);
    const n = this.count;
    const column = new Float32Array(n);
    const w0 = this.opts.priorWeightFrames;
    for (let k = 0; k < GEOMETRY_LENGTH; k++) {
      if (n === 0) {
        out[k] = this.opts.prior[k];
        continue;
      }
      for (let i = 0; i < n; i++) column[i] = this.history[i * GEOMETRY_LENGTH + k];
      column.sort();
      const median = n % 2 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
      out[k] = (w0 * this.opts.prior[k] + n * median) / (w0 + n);
    }
    this.cached = out;
    return out;
  }

  reset(): void {
    this.count = 0;
    this.next = 0;
    this.cached = null;
  }
}
