import { join } from 'node:path';
import { writePosteriorsCsv, type PosteriorRow } from '../posteriors.js';
import type { AuClip } from './au-data.js';
import { cvRow, type CvRow } from './cv-report.js';
import { innerActorFolds } from './inner-split.js';
import { fitPredictStatic, type StaticModelSpec } from './static-models.js';

export interface StaticCvOptions {
  /** Specs whose posteriors are written (`<posteriorsDir>/face-<id>/fold<k>/{train,test}.csv`), out-of-fold both ways. */
  posteriorSpecs?: Set<string>;
  posteriorsDir?: string;
  innerFolds?: number;
  seed?: number;
  log?: (msg: string) => void;
}

export interface StaticCvResult {
  rows: CvRow[];
  /** Per spec id: truth and predicted over all validation clips (fold order), for confusion matrices. */
  pooled: Map<string, { truth: number[]; predicted: number[] }>;
}

/** Posterior folder name of a face base model, e.g. `face-mlp80-norm`. */
export const faceBaseName = (id: string): string => `face-${id}`;

/** The paper's subject-wise CV of every static spec; writes out-of-fold posteriors for the chosen base models. */
export async function runStaticCv(clips: AuClip[], folds: number[][], specs: StaticModelSpec[], opts: StaticCvOptions = {}): Promise<StaticCvResult> {
  const log = opts.log ?? (() => {});
  const rows: CvRow[] = [];
  const pooled = new Map<string, { truth: number[]; predicted: number[] }>();
  for (const spec of specs) {
    const wantPosteriors = opts.posteriorSpecs?.has(spec.id) === true;
    const perFold: { fold: number; validationActors: number[]; truth: number[]; predicted: number[] }[] = [];
    const t0 = Date.now();
    for (let k = 0; k < folds.length; k++) {
      const val = new Set(folds[k]);
      const train = clips.filter((c) => !val.has(c.actor));
      const test = clips.filter((c) => val.has(c.actor));
      const seed = (opts.seed ?? 0) * 1000 + k;
      const fit = await fitPredictStatic(spec, train.map((c) => c.aus), train.map((c) => c.label), test.map((c) => c.aus),
        { posteriors: wantPosteriors, seed });
      perFold.push({ fold: k, validationActors: folds[k], truth: test.map((c) => c.label), predicted: fit.predictions });
      if (wantPosteriors && opts.posteriorsDir) {
        if (!fit.probs) throw new Error(`${spec.id}: no posteriors`);
        const dir = join(opts.posteriorsDir, faceBaseName(spec.id), `fold${k}`);
        writePosteriorsCsv(join(dir, 'test.csv'), test.map((c, i) => ({ clipId: c.clipId, probs: fit.probs![i] })));
        writePosteriorsCsv(join(dir, 'train.csv'), await innerOutOfFold(spec, train, opts.innerFolds ?? 5, seed));
      }
    }
    const row = cvRow(spec.id, spec.label, spec.paperAccuracy, perFold);
    rows.push(row);
    pooled.set(spec.id, { truth: perFold.flatMap((f) => f.truth), predicted: perFold.flatMap((f) => f.predicted) });
    log(`${spec.label}: ${(100 * row.meanAccuracy).toFixed(2)} % ± ${(100 * row.ci95).toFixed(2)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return { rows, pooled };
}

/** Posteriors for every training clip from models trained on the other inner actor groups (never its own actor). */
async function innerOutOfFold(spec: StaticModelSpec, train: AuClip[], innerFolds: number, seed: number): Promise<PosteriorRow[]> {
  const groups = innerActorFolds(train.map((c) => c.actor), innerFolds);
  const out: PosteriorRow[] = [];
  for (let g = 0; g < groups.length; g++) {
    const held = new Set(groups[g]);
    const fitOn = train.filter((c) => !held.has(c.actor));
    const predictOn = train.filter((c) => held.has(c.actor));
    const fit = await fitPredictStatic(spec, fitOn.map((c) => c.aus), fitOn.map((c) => c.label), predictOn.map((c) => c.aus),
      { posteriors: true, seed: seed * 10 + g + 1 });
    predictOn.forEach((c, i) => out.push({ clipId: c.clipId, probs: fit.probs![i] }));
  }
  return out.sort((a, b) => a.clipId.localeCompare(b.clipId));
}
