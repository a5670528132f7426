import { applyMinMax, validateMinMax, type MinMaxParams } from '../face/minmax.js';

/**
 * One fusion head: per-column min-max of the concatenated base posteriors, then multinomial logistic regression.
 * `weights` is row-major [classes][inputDim]. Pure TypeScript: a few hundred multiply-adds, microseconds.
 */
/**
 * What the head does to each base score before min-max: nothing (the paper: posteriors as they are), or log with a
 * floor (log-posteriors: the linear model then combines the bases multiplicatively, like a product of experts, and
 * confident-but-wrong posteriors near 0 are not all squashed to the same value).
 */
export type FusionFeatures = 'posteriors' | 'log-posteriors';
export const LOG_FLOOR = 1e-6;

export interface FusionHeadParams {
  name: string;
  /** Absent = 'posteriors' (heads written before this field existed). */
  features?: FusionFeatures;
  /** Base models in concatenation order, e.g. ['speech', 'face']; each contributes `classes` columns. */
  inputs: string[];
  normaliser: MinMaxParams;
  weights: number[][];
  bias: number[];
}

/** The head's per-score input transform (identity or floored log). */
export function transformFeatures(features: FusionFeatures | undefined, x: ArrayLike<number>): ArrayLike<number> {
  if (features !== 'log-posteriors') return x;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.log(Math.max(x[i], LOG_FLOOR));
  return out;
}

export function fusionHeadLogits(head: FusionHeadParams, x: ArrayLike<number>, out = new Float64Array(head.bias.length)): Float64Array {
  const z = applyMinMax(head.normaliser, transformFeatures(head.features, x));
  for (let c = 0; c < head.bias.length; c++) {
    const w = head.weights[c];
    let s = head.bias[c];
    for (let j = 0; j < z.length; j++) s += w[j] * z[j];
    out[c] = s;
  }
  return out;
}

export function softmaxInPlace(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < z.length; i++) { z[i] = Math.exp(z[i] - max); sum += z[i]; }
  for (let i = 0; i < z.length; i++) z[i] /= sum;
  return z;
}

export function fusionHeadProbs(head: FusionHeadParams, x: ArrayLike<number>): Float32Array {
  return Float32Array.from(softmaxInPlace(fusionHeadLogits(head, x)));
}

/** Validates a head read from JSON; errors say which head and which field is wrong. */
export function validateHead(raw: unknown, classes: number, where: string): FusionHeadParams {
  const h = raw as Partial<FusionHeadParams> | null;
  if (!h || typeof h.name !== 'string') throw new Error(`${where}: head without a name`);
  const at = `${where}: head '${h.name}'`;
  if (!Array.isArray(h.inputs) || h.inputs.length === 0 || h.inputs.some((s) => typeof s !== 'string')) throw new Error(`${at}: inputs must be a non-empty string[]`);
  const d = h.inputs.length * classes;
  const normaliser = validateMinMax(h.normaliser, d, `${at}: normaliser`);
  if (!Array.isArray(h.weights) || h.weights.length !== classes) throw new Error(`${at}: weights must have ${classes} rows`);
  h.weights.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== d || r.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new Error(`${at}: weights row ${i} must hold ${d} finite numbers`);
    }
  });
  if (!Array.isArray(h.bias) || h.bias.length !== classes || h.bias.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new Error(`${at}: bias must hold ${classes} finite numbers`);
  }
  if (h.features !== undefined && h.features !== 'posteriors' && h.features !== 'log-posteriors') {
    throw new Error(`${at}: features must be 'posteriors' or 'log-posteriors'`);
  }
  return { name: h.name, features: h.features ?? 'posteriors', inputs: h.inputs, normaliser, weights: h.weights, bias: h.bias };
}
