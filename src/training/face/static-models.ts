import { fitMinMax, applyMinMax, type MinMaxParams } from '../../models/face/minmax.js';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { argmax } from '../metrics.js';
import { trainKnn } from './knn.js';
import { trainMlp, type DenseLayer } from './mlp.js';
import { trainSvc } from './svc.js';

/** One row of the paper's Table 2 (static part): a classifier on clip-mean AUs, with or without min-max. */
export interface StaticModelSpec {
  id: string;
  label: string;
  family: 'svc' | 'knn' | 'mlp';
  normalise: boolean;
  c?: number;
  k?: number;
  hidden?: number[];
  /** The paper's accuracy for this row as a fraction, when DESIGN.md quotes it; null otherwise. */
  paperAccuracy: number | null;
}

/** Paper figures quoted in DESIGN.md / the issue (Table 2 static part); the other rows are not available offline. */
const PAPER: Record<string, number> = { 'svc-c1-norm': 0.5993, 'svc-c1-raw': 0.5488, 'mlp80-norm': 0.6022 };

export const STATIC_MODEL_SPECS: StaticModelSpec[] = [true, false].flatMap((normalise) => {
  const sfx = normalise ? 'norm' : 'raw';
  const nl = normalise ? 'min-max' : 'no norm.';
  const rows: StaticModelSpec[] = [
    ...[0.1, 1, 10].map((c) => ({ id: `svc-c${c}-${sfx}`, label: `SVC RBF C=${c}, ${nl}`, family: 'svc' as const, normalise, c })),
    ...[10, 20, 30, 40].map((k) => ({ id: `knn-k${k}-${sfx}`, label: `k-NN k=${k}, ${nl}`, family: 'knn' as const, normalise, k })),
    ...[[80], [80, 80]].map((hidden) => ({
      id: `mlp${hidden.join('x')}-${sfx}`, label: `MLP (${hidden.join(', ')}), ${nl}`, family: 'mlp' as const, normalise, hidden,
    })),
  ].map((s) => ({ ...s, paperAccuracy: PAPER[s.id] ?? null }));
  return rows;
});

export interface StaticFitResult {
  predictions: number[];
  /** Posteriors for the test rows (SVC: Platt; MLP: softmax) when asked for and the family has them; else null. */
  probs: Float32Array[] | null;
  normaliser: MinMaxParams | null;
  mlpLayers?: DenseLayer[];
}

/** Fits one spec on (trainX, trainY) — normaliser fitted on the training rows only — and predicts testX. */
export async function fitPredictStatic(
  spec: StaticModelSpec, trainX: Float32Array[], trainY: number[], testX: Float32Array[],
  opts: { posteriors?: boolean; seed?: number } = {},
): Promise<StaticFitResult> {
  const normaliser = spec.normalise ? fitMinMax(trainX) : null;
  const tx = normaliser ? trainX.map((r) => applyMinMax(normaliser, r)) : trainX;
  const qx = normaliser ? testX.map((r) => applyMinMax(normaliser, r)) : testX;
  if (spec.family === 'svc') {
    const svc = await trainSvc(tx, trainY, { c: spec.c ?? 1, probability: opts.posteriors === true });
    try {
      const predictions = svc.predict(qx);
      const probs = opts.posteriors ? svc.predictProba(qx, NUM_EMOTIONS) : null;
      return { predictions, probs, normaliser };
    } finally {
      svc.free();
    }
  }
  if (spec.family === 'knn') {
    return { predictions: trainKnn(tx, trainY, spec.k ?? 20).predict(qx), probs: null, normaliser };
  }
  const mlp = await trainMlp(tx, trainY, { hidden: spec.hidden ?? [80], seed: opts.seed ?? 0 });
  try {
    const probs = await mlp.predictProba(qx);
    return { predictions: probs.map(argmax), probs, normaliser, mlpLayers: mlp.layers };
  } finally {
    mlp.dispose();
  }
}
