import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { fitMinMax, applyMinMax } from '../../models/face/minmax.js';
import { fusionHeadProbs, transformFeatures, type FusionFeatures, type FusionHeadParams } from '../../models/fusion/head.js';
import { argmax } from '../metrics.js';
import { areProbabilities, classMetrics, cvRow, type ClassMetrics, type CvRow } from '../face/cv-report.js';
import { assertSubjectWise, joinSplit, type BasePosteriors } from './dataset.js';
import { fitMultinomialLogReg } from './logreg.js';

export const PAPER_FUSION_ACCURACY = 0.867;

/**
 * Fits one fusion head: the feature transform (none, or floored log for 'log-posteriors'), min-max on the training
 * rows, then multinomial L2 logistic regression with C = c.
 */
export function fitFusionHead(name: string, inputs: string[], x: ArrayLike<number>[], y: number[], c = 1, features: FusionFeatures = 'posteriors'): FusionHeadParams {
  if (features === 'log-posteriors') {
    for (const row of x) for (let j = 0; j < row.length; j++) {
      if (row[j] < 0 || row[j] > 1 + 1e-6) {
        throw new Error(`log-posterior fusion needs probabilities in [0, 1], got ${row[j]} in column ${j} (${inputs[Math.floor(j / NUM_EMOTIONS)]}); use --features posteriors for logits`);
      }
    }
  }
  const t = x.map((r) => transformFeatures(features, r));
  const normaliser = fitMinMax(t);
  const z = t.map((r) => applyMinMax(normaliser, r));
  const fit = fitMultinomialLogReg(z, y, NUM_EMOTIONS, c);
  return { name, features, inputs, normaliser, weights: fit.weights, bias: fit.bias };
}

/** Selects the columns of the models in `subset` (model order kept) from joined rows. */
function columnsOf(x: Float64Array[], models: BasePosteriors[], subset: BasePosteriors[]): Float64Array[] {
  const idx = subset.map((m) => models.indexOf(m));
  return x.map((row) => {
    const out = new Float64Array(idx.length * NUM_EMOTIONS);
    idx.forEach((i, j) => out.set(row.subarray(i * NUM_EMOTIONS, (i + 1) * NUM_EMOTIONS), j * NUM_EMOTIONS));
    return out;
  });
}

export interface FusionCvResult {
  /** The fusion of all base models. */
  fusion: CvRow;
  fusionMetrics: ClassMetrics;
  /** Fusion heads over each non-empty subset of modalities (all models of those modalities), when there are >= 2 modalities. */
  subsetHeads: CvRow[];
  /** Each base model alone (argmax of its test posteriors). */
  singles: CvRow[];
  singleMetrics: Record<string, ClassMetrics>;
}

function modalitySubsets(models: BasePosteriors[]): string[][] {
  const canonical = ['speech', 'face', 'expression'];
  const rank = (m: string) => (canonical.includes(m) ? canonical.indexOf(m) : canonical.length);
  const mods = [...new Set(models.map((m) => m.modality))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << mods.length; mask++) subsets.push(mods.filter((_, i) => mask & (1 << i)));
  return subsets.sort((a, b) => a.length - b.length); // stable: canonical modality order within a size
}

/** Subject-wise CV of late fusion: per fold, fit on train.csv (out-of-fold posteriors), evaluate on test.csv. */
export function runFusionCv(models: BasePosteriors[], numFolds: number, c = 1, features: FusionFeatures = 'posteriors'): FusionCvResult {
  const subsets = modalitySubsets(models);
  const fusionFolds: Parameters<typeof cvRow>[3] = [];
  const subsetFolds = new Map<string, Parameters<typeof cvRow>[3]>();
  const singleFolds = new Map<string, Parameters<typeof cvRow>[3]>();
  for (let k = 0; k < numFolds; k++) {
    const train = joinSplit(models, k, 'train');
    const test = joinSplit(models, k, 'test');
    assertSubjectWise(train, test, `${models.map((m) => m.dir).join(', ')}: fold${k}`);
    const validationActors = [...new Set(test.actors)].sort((a, b) => a - b);
    const head = fitFusionHead('all', models.map((m) => m.name), train.x, train.labels, c, features);
    const fusedProbs = test.x.map((r) => fusionHeadProbs(head, r));
    fusionFolds.push({ fold: k, validationActors, truth: test.labels, predicted: fusedProbs.map(argmax), probs: fusedProbs });
    if (subsets.length > 1) {
      for (const subset of subsets) {
        const sub = models.filter((m) => subset.includes(m.modality));
        const key = subset.join('+');
        const h = fitFusionHead(key, sub.map((m) => m.name), columnsOf(train.x, models, sub), train.labels, c, features);
        const probs = columnsOf(test.x, models, sub).map((r) => fusionHeadProbs(h, r));
        if (!subsetFolds.has(key)) subsetFolds.set(key, []);
        subsetFolds.get(key)!.push({ fold: k, validationActors, truth: test.labels, predicted: probs.map(argmax), probs });
      }
    }
    models.forEach((m, i) => {
      if (!singleFolds.has(m.name)) singleFolds.set(m.name, []);
      const own = test.perModel[i];
      singleFolds.get(m.name)!.push({ fold: k, validationActors, truth: test.labels, predicted: own.map(argmax), probs: areProbabilities(own) ? own : undefined });
    });
  }
  const fusion = cvRow(`fusion-all-${features}`, `Late fusion on ${features} (min-max + multinomial LR, C=${c}) of ${models.map((m) => m.name).join(' + ')}`,
    PAPER_FUSION_ACCURACY, fusionFolds);
  const pool = (f: Parameters<typeof cvRow>[3]) => classMetrics(f.flatMap((x) => x.truth), f.flatMap((x) => x.predicted));
  const singles = [...singleFolds].map(([name, f]) => cvRow(`single-${name}`, `${name} alone (argmax of its posteriors)`, null, f));
  return {
    fusion, fusionMetrics: pool(fusionFolds),
    subsetHeads: [...subsetFolds].map(([key, f]) => cvRow(`head-${key}`, `Fusion head '${key}' on ${features} (${models.filter((m) => key.split('+').includes(m.modality)).map((m) => m.name).join(' + ')})`, null, f)),
    singles,
    singleMetrics: Object.fromEntries([...singleFolds].map(([name, f]) => [name, pool(f)])),
  };
}

/**
 * The shipped heads: one per non-empty subset of modalities, fitted on every clip's out-of-fold posterior (the union
 * of the folds' test.csv: each clip scored by a base model that never trained on its actor). Needs one model per modality.
 */
export function fitShippedHeads(models: BasePosteriors[], numFolds: number, c = 1, features: FusionFeatures = 'posteriors'): FusionHeadParams[] {
  const byModality = new Map<string, BasePosteriors>();
  for (const m of models) {
    if (byModality.has(m.modality)) throw new Error(`shipped fusion heads need one base model per modality; '${m.modality}' has ${byModality.get(m.modality)!.name} and ${m.name} (choose with --models)`);
    byModality.set(m.modality, m);
  }
  const splits = Array.from({ length: numFolds }, (_, k) => joinSplit(models, k, 'test'));
  const x = splits.flatMap((s) => s.x);
  const y = splits.flatMap((s) => s.labels);
  const ids = splits.flatMap((s) => s.clipIds);
  if (new Set(ids).size !== ids.length) throw new Error('a clip is in the test split of more than one fold');
  return modalitySubsets(models).map((subset) => {
    // Concatenate in the subset's (canonical) modality order, which is the order the server's fuse() uses.
    const sub = subset.map((mod) => byModality.get(mod)!);
    return fitFusionHead(subset.join('+'), sub.map((m) => m.modality), columnsOf(x, models, sub), y, c, features);
  });
}
