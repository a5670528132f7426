import { EMOTIONS, NUM_EMOTIONS } from '../protocol/labels.js';

/**
 * How the server turns a video window into its face posterior (models.video.facePosterior):
 * - `expression`: the FER-2013 expression net mapped to the 8 labels (window mean of its per-frame posteriors);
 * - `au-model`: the AU face model (src/models/face, trained on RAVDESS OpenFace AUs) on the window's geometric AUs;
 * - `facs`: FACS prototype rules on the window's mean AU intensities (src/face/facs-rules.ts);
 * - `pool`: a log-linear pool of the branches, each weighted by its measured accuracy (FACE_POOL_WEIGHTS).
 * models/face/transfer-report.md compares them on held-out people.
 */
export const FACE_POSTERIOR_MODES = ['expression', 'au-model', 'facs', 'pool'] as const;
export type FacePosteriorMode = (typeof FACE_POSTERIOR_MODES)[number];
export type FaceBranch = 'expression' | 'auModel' | 'facs';
export type FaceBranches = Partial<Record<FaceBranch, Float32Array | null>>;

/** A branch's probability is floored before the log so a 0 (the expression net has no 'calm') does not veto a class. */
export const POOL_FLOOR = 1e-3;

/**
 * Log-linear (geometric) pool: p(c) ∝ Π_b p_b(c)^w_b over the branches present. Unlike a mean it lets the branches'
 * evidence multiply, and a branch's weight scales how sharp its vote is; weights that sum to 1 keep the pool no more
 * confident than its branches. Absent branches are skipped and the remaining weights renormalised; null when no
 * weighted branch is present.
 */
export function logLinearPool<K extends string>(branches: Partial<Record<K, Float32Array | null>>, weights: Partial<Record<K, number>>): Float32Array | null {
  const logp = new Float64Array(NUM_EMOTIONS);
  let total = 0;
  for (const [name, w] of Object.entries(weights) as [K, number][]) {
    const p = branches[name];
    if (!p || !(w > 0)) continue;
    total += w;
    for (let i = 0; i < NUM_EMOTIONS; i++) logp[i] += w * Math.log(Math.max(POOL_FLOOR, p[i]));
  }
  if (total === 0) return null;
  let max = -Infinity;
  for (let i = 0; i < NUM_EMOTIONS; i++) max = Math.max(max, (logp[i] /= total));
  const out = new Float32Array(NUM_EMOTIONS);
  let sum = 0;
  for (let i = 0; i < NUM_EMOTIONS; i++) sum += out[i] = Math.exp(logp[i] - max);
  for (let i = 0; i < NUM_EMOTIONS; i++) out[i] /= sum;
  return out;
}

/** Pool weights from each branch's accuracy on labelled clips: accuracy above chance (1/8), 0 at or below it. */
export function weightsFromAccuracy(accuracy: Partial<Record<FaceBranch, number>>): Partial<Record<FaceBranch, number>> {
  const chance = 1 / EMOTIONS.length;
  const out: Partial<Record<FaceBranch, number>> = {};
  for (const [k, a] of Object.entries(accuracy) as [FaceBranch, number][]) out[k] = Math.max(0, a - chance);
  return out;
}

/**
 * The shipped pool's weights: each branch's accuracy minus chance on the 20 labelled clips of ../shared/faces with the
 * shipped AU scale (`emostream eval face-transfer` recomputes them; models/face/transfer-report.md).
 */
export const FACE_POOL_WEIGHTS: Readonly<Record<FaceBranch, number>> = { expression: 0.425, auModel: 0.025, facs: 0.175 };

/** The face posterior of one video window for the configured mode; null when the mode's inputs are missing. */
export function facePosterior(mode: FacePosteriorMode, b: FaceBranches): Float32Array | null {
  switch (mode) {
    case 'expression':
      return b.expression ?? null;
    case 'au-model':
      return b.auModel ?? null;
    case 'facs':
      return b.facs ?? null;
    case 'pool':
      return logLinearPool(b, FACE_POOL_WEIGHTS);
  }
}
