import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { argmax } from '../metrics.js';

/**
 * Late combination of two speech models: weighted mean of their log-posteriors, renormalised (a product of experts).
 * The exported graph computes the same: logits = w log max(p_cnn, floor) + (1 - w) log max(p_other, floor).
 */
export const COMBINE_PROB_FLOOR = 1e-12;

/** Candidate CNN weights: 0, 0.05, ..., 1. */
export const WEIGHT_GRID = Array.from({ length: 21 }, (_, i) => i / 20);

export function combinePosteriors(cnn: ArrayLike<number>, other: ArrayLike<number>, weightCnn: number): Float32Array {
  const out = new Float32Array(NUM_EMOTIONS);
  let mx = -Infinity;
  for (let c = 0; c < NUM_EMOTIONS; c++) {
    out[c] = weightCnn * Math.log(Math.max(COMBINE_PROB_FLOOR, cnn[c])) + (1 - weightCnn) * Math.log(Math.max(COMBINE_PROB_FLOOR, other[c]));
    mx = Math.max(mx, out[c]);
  }
  let s = 0;
  for (let c = 0; c < NUM_EMOTIONS; c++) { out[c] = Math.exp(out[c] - mx); s += out[c]; }
  for (let c = 0; c < NUM_EMOTIONS; c++) out[c] /= s;
  return out;
}

/**
 * The CNN weight with the best accuracy on the given posteriors (out-of-fold inner-split posteriors of the fold's
 * training clips, never validation clips); ties go to the lower log-loss.
 */
export function chooseWeight(truth: number[], cnn: ArrayLike<number>[], other: ArrayLike<number>[], grid = WEIGHT_GRID): number {
  if (truth.length === 0 || cnn.length !== truth.length || other.length !== truth.length) throw new Error('chooseWeight: posteriors and labels differ in length');
  let best = { w: grid[0], acc: -1, nll: Infinity };
  for (const w of grid) {
    let hits = 0, nll = 0;
    truth.forEach((y, i) => {
      const p = combinePosteriors(cnn[i], other[i], w);
      if (argmax(p) === y) hits++;
      nll -= Math.log(Math.max(COMBINE_PROB_FLOOR, p[y]));
    });
    const acc = hits / truth.length;
    if (acc > best.acc + 1e-12 || (Math.abs(acc - best.acc) <= 1e-12 && nll < best.nll - 1e-9)) best = { w, acc, nll };
  }
  return best.w;
}

/**
 * The CNN posterior back from a combination and the other model's posterior (the inverse of combinePosteriors for
 * weightCnn > 0): p_cnn ∝ (p_comb / p_other^(1 - w))^(1 / w). Lets a run that kept only the combined out-of-fold
 * posteriors be recombined with a new second model once the old second model's posteriors are reproduced.
 */
export function recoverCnnPosterior(combined: ArrayLike<number>, other: ArrayLike<number>, weightCnn: number): Float32Array {
  if (!(weightCnn > 0 && weightCnn <= 1)) throw new Error(`recoverCnnPosterior: the CNN weight must be in (0, 1] (got ${weightCnn})`);
  const out = new Float32Array(NUM_EMOTIONS);
  let mx = -Infinity;
  for (let c = 0; c < NUM_EMOTIONS; c++) {
    out[c] = (Math.log(Math.max(COMBINE_PROB_FLOOR, combined[c])) - (1 - weightCnn) * Math.log(Math.max(COMBINE_PROB_FLOOR, other[c]))) / weightCnn;
    mx = Math.max(mx, out[c]);
  }
  let s = 0;
  for (let c = 0; c < NUM_EMOTIONS; c++) { out[c] = Math.exp(out[c] - mx); s += out[c]; }
  for (let c = 0; c < NUM_EMOTIONS; c++) out[c] /= s;
  return out;
}
