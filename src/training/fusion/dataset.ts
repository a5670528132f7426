import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { readPosteriorFolds, type PosteriorFold } from '../posteriors.js';
import { parseRavdessName } from '../ravdess.js';

/** The out-of-fold posteriors of one base model (a sub-folder of the posteriors directory). */
export interface BasePosteriors {
  name: string;
  /** 'speech' | 'face' | 'expression' from the name's prefix; any other name is its own modality. */
  modality: string;
  dir: string;
  folds: PosteriorFold[];
}

export function modalityOf(modelName: string): string {
  const m = /^(speech|face|expression)(\b|[-_])/.exec(modelName);
  return m ? m[1] : modelName;
}

/** Base model folders under `dir` (those holding a fold0/), sorted; or the named ones, which must all exist. */
export function listBaseModels(dir: string, names?: string[]): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: posteriors directory not found`);
  if (names && names.length > 0) {
    for (const n of names) if (!existsSync(join(dir, n))) throw new Error(`${join(dir, n)}: base model '${n}' not found in ${dir}`);
    return names;
  }
  const found = readdirSync(dir).filter((d) => existsSync(join(dir, d, 'fold0'))).sort();
  if (found.length === 0) throw new Error(`${dir}: no base model folders (expected <model>/fold<k>/{train,test}.csv)`);
  return found;
}

export function loadBasePosteriors(dir: string, names: string[], numFolds: number): BasePosteriors[] {
  return names.map((name) => ({ name, modality: modalityOf(name), dir: join(dir, name), folds: readPosteriorFolds(join(dir, name), numFolds) }));
}

/** Rows of one split of one fold, base posteriors concatenated in model order, joined by clip id. */
export interface JoinedSplit {
  clipIds: string[];
  labels: number[];
  actors: number[];
  /** Concatenated base scores, NUM_EMOTIONS per model. */
  x: Float64Array[];
  /** Per model: its own scores for each row (for the single-model rows of the report). */
  perModel: Float32Array[][];
}

/**
 * Joins the models' rows of fold k's train or test split. Every model must hold exactly the same clips there;
 * a clip missing from one model is an error naming both files. Labels come from the clip id's emotion field.
 */
export function joinSplit(models: BasePosteriors[], fold: number, split: 'train' | 'test'): JoinedSplit {
  if (models.length === 0) throw new Error('joinSplit: no base models');
  const ref = models[0];
  const refRows = ref.folds[fold][split];
  const refPath = join(ref.dir, `fold${fold}`, `${split}.csv`);
  const maps = models.map((m) => new Map(m.folds[fold][split].map((r) => [r.clipId, r.probs])));
  models.forEach((m, i) => {
    const path = join(m.dir, `fold${fold}`, `${split}.csv`);
    for (const r of refRows) if (!maps[i].has(r.clipId)) throw new Error(`${path}: clip ${r.clipId} (in ${refPath}) is missing`);
    if (maps[i].size !== refRows.length) {
      const refIds = new Set(refRows.map((r) => r.clipId));
      const extra = [...maps[i].keys()].find((id) => !refIds.has(id));
      throw new Error(`${path}: clip ${extra} is not in ${refPath}`);
    }
  });
  const clipIds = refRows.map((r) => r.clipId);
  const parsed = clipIds.map((id) => parseRavdessName(`01-${id}`));
  const x = clipIds.map((id) => {
    const row = new Float64Array(models.length * NUM_EMOTIONS);
    maps.forEach((mp, i) => row.set(mp.get(id)!, i * NUM_EMOTIONS));
    return row;
  });
  return {
    clipIds, labels: parsed.map((p) => p.emotionIndex), actors: parsed.map((p) => p.actor), x,
    perModel: maps.map((mp) => clipIds.map((id) => mp.get(id)!)),
  };
}

/** Subject-wise check: no actor may appear in both the train and the test split of a fold. */
export function assertSubjectWise(train: JoinedSplit, test: JoinedSplit, where: string): void {
  const trainActors = new Set(train.actors);
  const i = test.actors.findIndex((a) => trainActors.has(a));
  if (i >= 0) throw new Error(`${where}: test clip ${test.clipIds[i]} has actor ${test.actors[i]}, who is also in train.csv (folds must be subject-wise)`);
}
