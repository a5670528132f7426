import type * as tfType from '@tensorflow/tfjs';
import { join } from 'node:path';
import { loadFolds } from '../ravdess.js';
import { writePosteriorsCsv } from '../posteriors.js';
import { accuracy, argmax } from '../metrics.js';
import { loadSpeechDataset, priorStats, type SpeechDataset, type SpeechItem } from './dataset.js';
import { predictClips, trainSpeechNet, type TrainConfig, type TrainProgress } from './train.js';
import { streamingWindowPredictions, type WindowPrediction } from './streaming-eval.js';
import { DEFAULT_ACTIVITY_GATE } from '../../features/speaker-norm.js';

type Tf = typeof tfType;

export interface CvOptions {
  train: TrainConfig;
  /** Subject-wise inner splits of each fold's training actors that produce the out-of-fold train posteriors (0 = none). */
  innerSplits: number;
  /** Where `fold<k>/{train,test}.csv` go (written as soon as each is ready); null = do not write. */
  posteriorsDir: string | null;
  windowSamples: number;
  hopSamples: number;
  priorWeightFrames: number;
  /** Run only these folds (debugging); default all. */
  onlyFolds?: number[];
  dataset?: SpeechDataset;
  onStage?: (stage: string) => void;
  onProgress?: (p: TrainProgress & { stage: string }) => void;
}

export interface FoldResult {
  fold: number;
  validationActors: number[];
  trainActors: number[];
  innerSplits: number[][];
  accuracy: number;
  windowAccuracy: number;
  windows: number;
  trainSeconds: number;
}

export interface CvResult {
  folds: FoldResult[];
  /** Out-of-fold clip posteriors (validation fold model) for every evaluated clip. */
  clipPosteriors: { item: SpeechItem; probs: Float32Array; fold: number }[];
  windowPredictions: (WindowPrediction & { fold: number })[];
  seconds: number;
}

/**
 * Splits actors into `n` subject-wise groups, males (odd) and females (even) dealt round-robin separately, so each
 * group keeps the gender balance of the whole.
 */
export function innerActorSplits(actors: number[], n: number): number[][] {
  const groups: number[][] = Array.from({ length: n }, () => []);
  const males = actors.filter((a) => a % 2 === 1).sort((a, b) => a - b);
  const females = actors.filter((a) => a % 2 === 0).sort((a, b) => a - b);
  males.forEach((a, i) => groups[i % n].push(a));
  females.forEach((a, i) => groups[(n - 1 - (i % n))].push(a));
  return groups.map((g) => g.sort((a, b) => a - b));
}

export async function runSpeechCv(tf: Tf, opts: CvOptions): Promise<CvResult> {
  const t0 = performance.now();
  opts.onStage?.('features');
  const ds = opts.dataset ?? loadSpeechDataset();
  const folds = loadFolds();
  const allActors = [...new Set(ds.items.map((i) => i.actor))].sort((a, b) => a - b);
  const result: CvResult = { folds: [], clipPosteriors: [], windowPredictions: [], seconds: 0 };
  const statsFor = (it: SpeechItem) => ds.actorStats.get(it.actor)!;
  for (let k = 0; k < folds.length; k++) {
    if (opts.onlyFolds && !opts.onlyFolds.includes(k)) continue;
    const tFold = performance.now();
    const valActors = folds[k];
    const trainActors = allActors.filter((a) => !valActors.includes(a));
    const trainItems = ds.items.filter((i) => trainActors.includes(i.actor));
    const valItems = ds.items.filter((i) => valActors.includes(i.actor));
    const stage = `fold ${k}`;
    opts.onStage?.(`${stage}: training on ${trainActors.length} actors`);
    const weights = await trainSpeechNet(tf, trainItems, ds.actorStats, opts.train, (p) => opts.onProgress?.({ ...p, stage }));
    const valProbs = await predictClips(tf, weights, opts.train.net, valItems, statsFor);
    valProbs.forEach((probs, i) => result.clipPosteriors.push({ item: valItems[i], probs, fold: k }));
    if (opts.posteriorsDir) {
      writePosteriorsCsv(join(opts.posteriorsDir, `fold${k}`, 'test.csv'), valItems.map((it, i) => ({ clipId: it.clip.clipId, probs: valProbs[i] })));
    }
    opts.onStage?.(`${stage}: streaming windows`);
    const windows = await streamingWindowPredictions(tf, weights, opts.train.net, valItems, {
      mel: ds.mel, activityGate: DEFAULT_ACTIVITY_GATE, prior: priorStats(ds.actorStats, trainActors),
      priorWeightFrames: opts.priorWeightFrames, windowSamples: opts.windowSamples, hopSamples: opts.hopSamples, seed: 1000 + k,
    });
    windows.forEach((w) => result.windowPredictions.push({ ...w, fold: k }));
    const splits = opts.innerSplits > 1 ? innerActorSplits(trainActors, opts.innerSplits) : [];
    if (splits.length > 0) {
      const trainProbs = new Map<string, Float32Array>();
      for (let s = 0; s < splits.length; s++) {
        const held = splits[s];
        const innerStage = `${stage} inner ${s + 1}/${splits.length}`;
        opts.onStage?.(`${innerStage}: training on ${trainActors.length - held.length} actors`);
        const innerTrain = trainItems.filter((i) => !held.includes(i.actor));
        const innerHeld = trainItems.filter((i) => held.includes(i.actor));
        const w = await trainSpeechNet(tf, innerTrain, ds.actorStats, { ...opts.train, seed: opts.train.seed + 101 * (s + 1) }, (p) => opts.onProgress?.({ ...p, stage: innerStage }));
        const probs = await predictClips(tf, w, opts.train.net, innerHeld, statsFor);
        innerHeld.forEach((it, i) => trainProbs.set(it.clip.clipId, probs[i]));
      }
      if (opts.posteriorsDir) {
        writePosteriorsCsv(join(opts.posteriorsDir, `fold${k}`, 'train.csv'), trainItems.map((it) => ({ clipId: it.clip.clipId, probs: trainProbs.get(it.clip.clipId)! })));
      }
    }
    const acc = accuracy(valItems.map((i) => i.label), valProbs.map((p) => argmax(p)));
    const wAcc = accuracy(windows.map((w) => w.label), windows.map((w) => argmax(w.probs)));
    result.folds.push({
      fold: k, validationActors: valActors, trainActors, innerSplits: splits, accuracy: acc, windowAccuracy: wAcc,
      windows: windows.length, trainSeconds: (performance.now() - tFold) / 1000,
    });
    opts.onStage?.(`${stage}: clip accuracy ${(acc * 100).toFixed(2)} %, window accuracy ${(wAcc * 100).toFixed(2)} %`);
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
