/**
 * Per-dimension running mean and variance (Chan/Welford in float64), optionally seeded with a prior that counts as
 * `weight` observations. The per-speaker normalisers (log-mel bands, window functionals) are built on it, in training
 * (all of a speaker's data) and on the server (what a session has sent so far) alike.
 */
export interface MeanStd {
  mean: Float32Array;
  std: Float32Array;
}

export class RunningMeanVar {
  private n = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly dims: number, prior?: { mean: ArrayLike<number>; std: ArrayLike<number>; weight: number }) {
    this.mean = new Float64Array(dims);
    this.m2 = new Float64Array(dims);
    if (prior && prior.weight > 0) {
      this.n = prior.weight;
      for (let d = 0; d < dims; d++) {
        this.mean[d] = prior.mean[d];
        this.m2[d] = prior.std[d] * prior.std[d] * prior.weight;
      }
    }
  }

  /** Adds the observation at `x[offset..offset+dims)`. */
  add(x: ArrayLike<number>, offset = 0): void {
    this.n++;
    for (let d = 0; d < this.dims; d++) {
      const v = x[offset + d];
      const delta = v - this.mean[d];
      this.mean[d] += delta / this.n;
      this.m2[d] += delta * (v - this.mean[d]);
    }
  }

  /** Observations so far, the prior's weight included. */
  get count(): number {
    return this.n;
  }

  /** Mean and standard deviation (floored at `minStd`, so constant dimensions stay finite); `emptyError` when nothing was seen. */
  stats(minStd: number, emptyError: string): MeanStd {
    if (this.n === 0) throw new Error(emptyError);
    const mean = new Float32Array(this.dims);
    const std = new Float32Array(this.dims);
    for (let d = 0; d < this.dims; d++) {
      mean[d] = this.mean[d];
      std[d] = Math.max(minStd, Math.sqrt(this.m2[d] / this.n));
    }
    return { mean, std };
  }
}
