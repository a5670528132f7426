import { join } from 'node:path';
import { loadFolds } from '../ravdess.js';
import { writePosteriorsCsv } from '../posteriors.js';
import { accuracy, argmax } from '../metrics.js';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { loadSpeechDataset, priorStats, type SpeechDataset, type SpeechItem } from './dataset.js';
import type { TrainConfig } from './train.js';
import type { WindowPrediction } from './streaming-eval.js';
import type { WeightMap } from './net.js';
import { runTaskPool, type PoolProgress, type PoolTask } from './train-pool.js';
import type { WorkerTaskResult } from './train-tasks.js';
import { DEFAULT_ACTIVITY_GATE } from '../../features/speaker-norm.js';
import { chooseWeight, combinePosteriors } from './combine.js';
import {
  prepareFunctionals, runFunctionalFold, trainAllActorsFunctionals, streamSpeakerNorm, DEFAULT_WEIGHT_CNN,
  type FunctionalCvConfig, type FunctionalFoldOutput, type FunctionalPrepared,
} from './functional-cv.js';
import { pitchPrior, predictFunctionalEnsemble } from './functional-data.js';
import type { FunctionalModel } from './functional-model.js';

export interface CvOptions {
  train: TrainConfig;
  /** Networks per training (seed ensemble): member m uses seed train.seed + m; posteriors are the members' mean. */
  seeds: number;
  /** Worker threads training in parallel (results do not depend on it). */
  jobs: number;
  /** Subject-wise inner splits of each fold's training actors that produce the out-of-fold train posteriors (0 = none). */
  innerSplits: number;
  /** Where `fold<k>/{train,test}.csv` go (written as soon as each fold is done); null = do not write. */
  posteriorsDir: string | null;
  windowSamples: number;
  hopSamples: number;
  priorWeightFrames: number;
  /** Folds to cross-validate (default all five; [] = none, e.g. only the shipped model). */
  onlyFolds?: number[];
  /** Also train the shipped ensemble on all actors, in the same worker pool (returned as `allActorsMembers`). */
  trainAllActors?: boolean;
  /**
   * Also train the window-functionals model (log-mel + pitch statistics, MLP) per fold, inner split and (with
   * trainAllActors) on all actors, and combine it with the CNN (weight chosen per fold on the inner splits).
   * Accuracies and posteriors are then the combination's; the CNN's and the functionals model's own are reported too.
   */
  functionals?: FunctionalCvConfig;
  dataset?: SpeechDataset;
  onLog?: (msg: string) => void;
  onProgress?: (p: PoolProgress) => void;
}

export interface FoldResult {
  fold: number;
  validationActors: number[];
  trainActors: number[];
  innerSplits: number[][];
  accuracy: number;
  windowAccuracy: number;
  windows: number;
  /** Sum of the fold's task times (training, prediction, streaming evaluation) on one core each. */
  coreSeconds: number;
  /** Clip accuracy of each ensemble member alone (same validation clips). */
  memberAccuracies: number[];
  /** With functionals: the CNN ensemble alone, the functionals model alone, and the CNN weight chosen on the inner splits. */
  cnnAccuracy: number;
  cnnWindowAccuracy: number;
  functionalsAccuracy?: number;
  functionalsWindowAccuracy?: number;
  weightCnn?: number;
  /** Inner-split (out-of-fold train) accuracies at that weight: CNN, functionals, combination. */
  inner?: { cnn: number; functionals: number; combined: number };
}

export interface CvResult {
  folds: FoldResult[];
  /** Out-of-fold clip posteriors (validation fold ensemble) for every evaluated clip. */
  clipPosteriors: { item: SpeechItem; probs: Float32Array; fold: number }[];
  windowPredictions: (WindowPrediction & { fold: number })[];
  /** Members trained on all actors (only with `trainAllActors`). */
  allActorsMembers: WeightMap[];
  /** With functionals: the all-actors functionals ensemble, the shipped CNN weight (mean of the folds'), pitch refs. */
  functionals?: {
    allActorsMembers: FunctionalModel[]; weightCnn: number; pitchRefs: Map<number, number>; seconds: number;
    /** Per-actor functional statistics (with speaker normalisation): the shipped normaliser's prior is their mean. */
    prepared: FunctionalPrepared;
  };
  /** Wall time of the whole run (features, pool, evaluation). */
  seconds: number;
  /** Sum of all task times: what one core would have needed. */
  coreSeconds: number;
}

/** Seed of ensemble member m (member 0 keeps the configured seed, so one member reproduces the single model). */
export function memberSeed(base: number, member: number): number {
  return base + member;
}

/** Seed of inner split s of member m (as before ensembles: base + 101 (s + 1) for member 0). */
export function innerSeed(base: number, member: number, split: number): number {
  return memberSeed(base, member) + 101 * (split + 1);
}

/** Mean of equally long posterior lists (clip i = mean over members of their clip i). */
export function meanPosteriors(lists: Float32Array[][]): Float32Array[] {
  if (lists.length === 0) throw new Error('meanPosteriors: no members');
  const n = lists[0].length;
  if (lists.some((l) => l.length !== n)) throw new Error('meanPosteriors: members scored different clip counts');
  return Array.from({ length: n }, (_, i) => {
    const m = new Float32Array(NUM_EMOTIONS);
    for (const l of lists) for (let c = 0; c < NUM_EMOTIONS; c++) m[c] += l[i][c] / lists.length;
    return m;
  });
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

/** Frames between the scored 3 s windows of a clip (0.5 s, as predictClips). */
const EVAL_HOP_FRAMES = 50;

export async function runSpeechCv(opts: CvOptions): Promise<CvResult> {
  const t0 = performance.now();
  const ds = opts.dataset ?? loadSpeechDataset();
  const K = Math.max(1, Math.floor(opts.seeds));
  const folds = loadFolds();
  const allActors = [...new Set(ds.items.map((i) => i.actor))].sort((a, b) => a - b);
  const indexOf = new Map(ds.items.map((it, i) => [it, i]));
  const idx = (items: SpeechItem[]) => items.map((it) => indexOf.get(it)!);
  const batchesOf = (n: number) => opts.train.epochs * Math.ceil(n / opts.train.batchSize);
  const log = opts.onLog ?? (() => {});
  const fcfg = opts.functionals;
  let prep: FunctionalPrepared | null = null;
  if (fcfg) {
    prep = await prepareFunctionals(ds, fcfg, opts.train.net.frames, EVAL_HOP_FRAMES);
    log(`pitch tracks and window functionals of ${ds.items.length} clips in ${prep.seconds.toFixed(1)} s`);
  }

  interface FoldPlan {
    fold: number; valActors: number[]; trainActors: number[]; trainItems: SpeechItem[]; valItems: SpeechItem[];
    splits: number[][]; held: SpeechItem[][]; keys: string[];
  }
  const plans: FoldPlan[] = [];
  const exportTasks: PoolTask[] = [];
  const outerTasks: PoolTask[] = [];
  const innerTasks: PoolTask[] = [];
  const trainTask = (key: string, label: string, train: SpeechItem[], predict: SpeechItem[], seed: number): PoolTask => ({
    key, label, steps: batchesOf(train.length),
    build: () => ({ kind: 'train', trainIdx: idx(train), predictIdx: idx(predict), cfg: { ...opts.train, seed } }),
  });
  const seedTag = (m: number) => (K > 1 ? ` seed ${m + 1}/${K}` : '');
  if (opts.trainAllActors) {
    for (let m = 0; m < K; m++) exportTasks.push(trainTask(`all/m${m}`, `all actors${seedTag(m)}`, ds.items, [], memberSeed(opts.train.seed, m)));
  }
  for (let k = 0; k < folds.length; k++) {
    if (opts.onlyFolds && !opts.onlyFolds.includes(k)) continue;
    const valActors = folds[k];
    const trainActors = allActors.filter((a) => !valActors.includes(a));
    const trainItems = ds.items.filter((i) => trainActors.includes(i.actor));
    const valItems = ds.items.filter((i) => valActors.includes(i.actor));
    const splits = opts.innerSplits > 1 ? innerActorSplits(trainActors, opts.innerSplits) : [];
    const held = splits.map((h) => trainItems.filter((i) => h.includes(i.actor)));
    const plan: FoldPlan = { fold: k, valActors, trainActors, trainItems, valItems, splits, held, keys: [] };
    const outerKeys: string[] = [];
    for (let m = 0; m < K; m++) {
      const t = trainTask(`f${k}/outer/m${m}`, `fold ${k}${seedTag(m)}`, trainItems, valItems, memberSeed(opts.train.seed, m));
      outerTasks.push(t);
      outerKeys.push(t.key);
    }
    outerTasks.push({
      key: `f${k}/stream`, label: `fold ${k} streaming windows`, deps: outerKeys, steps: 0,
      build: (deps) => ({
        kind: 'stream', itemIdx: idx(valItems), net: opts.train.net,
        members: outerKeys.map((key) => (deps.get(key) as Extract<WorkerTaskResult, { kind: 'train' }>).weights),
        opts: {
          mel: ds.mel, activityGate: DEFAULT_ACTIVITY_GATE, prior: priorStats(ds.actorStats, trainActors),
          priorWeightFrames: opts.priorWeightFrames, windowSamples: opts.windowSamples, hopSamples: opts.hopSamples, seed: 1000 + k,
          ...(prep && fcfg ? {
            pitch: {
              config: fcfg.pitch, priorLog2Hz: pitchPrior(prep.pitchRefs, trainActors), priorWeightFrames: fcfg.pitchPriorWeightFrames,
              ...(fcfg.voiceQuality ? { voiceQuality: true } : {}),
              ...(fcfg.spectroTemporal ? { spectroTemporal: true } : {}),
              ...(fcfg.shape ? { shape: true } : {}),
              ...(fcfg.speakerNorm ? { speakerNorm: streamSpeakerNorm(prep, fcfg, trainActors) } : {}),
            },
          } : {}),
        },
      }),
    });
    plan.keys.push(...outerKeys, `f${k}/stream`);
    splits.forEach((h, s) => {
      for (let m = 0; m < K; m++) {
        const t = trainTask(`f${k}/inner${s}/m${m}`, `fold ${k} inner ${s + 1}/${splits.length}${seedTag(m)}`,
          trainItems.filter((i) => !h.includes(i.actor)), held[s], innerSeed(opts.train.seed, m, s));
        innerTasks.push(t);
        plan.keys.push(t.key);
      }
    });
    plans.push(plan);
  }
  // Longest tasks first (all-actors, then fold models, then the half-size inner models), so the last tasks to
  // finish are short and both workers stay busy to the end.
  const tasks = [...exportTasks, ...outerTasks, ...innerTasks];
  log(`${tasks.length} tasks (${K} seed${K > 1 ? 's' : ''} per training) on ${Math.min(opts.jobs, tasks.length)} worker thread(s)`);

  const foldResults = new Map<number, { result: FoldResult; probs: Float32Array[]; windows: WindowPrediction[] }>();
  const done = new Set<string>();
  const functionalFolds = new Map<number, FunctionalFoldOutput>();
  const finishFold = (plan: FoldPlan, results: Map<string, WorkerTaskResult>) => {
    const k = plan.fold;
    const train = (key: string) => results.get(key) as Extract<WorkerTaskResult, { kind: 'train' }>;
    const memberProbs = Array.from({ length: K }, (_, m) => train(`f${k}/outer/m${m}`).probs);
    const cnnProbs = meanPosteriors(memberProbs);
    const stream = results.get(`f${k}/stream`) as Extract<WorkerTaskResult, { kind: 'stream' }>;
    const truth = plan.valItems.map((i) => i.label);
    const innerCnn = new Map<string, Float32Array>();
    plan.splits.forEach((_, s) => {
      const probs = meanPosteriors(Array.from({ length: K }, (_, m) => train(`f${k}/inner${s}/m${m}`).probs));
      plan.held[s].forEach((it, i) => innerCnn.set(it.clip.clipId, probs[i]));
    });
    const fOut = functionalFolds.get(k);
    const accOf = (t: number[], ps: ArrayLike<number>[]) => accuracy(t, ps.map((p) => argmax(p)));
    // Without functionals the "combination" is the CNN itself.
    let valProbs = cnnProbs;
    let trainProbs = innerCnn;
    let windows = stream.windows;
    const extra: Partial<FoldResult> = {};
    if (fOut) {
      const innerTruth = plan.trainItems.map((i) => i.label);
      const innerC = plan.trainItems.map((it) => innerCnn.get(it.clip.clipId)!);
      const innerF = plan.trainItems.map((it) => fOut.innerProbs.get(it)!);
      const w = plan.splits.length > 0 ? chooseWeight(innerTruth, innerC, innerF) : DEFAULT_WEIGHT_CNN;
      valProbs = cnnProbs.map((p, i) => combinePosteriors(p, fOut.valProbs[i], w));
      trainProbs = new Map(plan.splits.length > 0 ? plan.trainItems.map((it, i) => [it.clip.clipId, combinePosteriors(innerC[i], innerF[i], w)]) : []);
      const fWindows = stream.windows.map((win) => {
        if (!win.functionals) throw new Error(`fold ${k}: the streaming evaluation returned a window without functionals`);
        return predictFunctionalEnsemble(fOut.members, win.functionals, 1);
      });
      windows = stream.windows.map((win, i) => ({ ...win, probs: combinePosteriors(win.probs, fWindows[i], w), functionals: undefined }));
      extra.weightCnn = w;
      extra.functionalsAccuracy = accOf(truth, fOut.valProbs);
      extra.functionalsWindowAccuracy = accOf(stream.windows.map((x) => x.label), fWindows);
      if (plan.splits.length > 0) {
        extra.inner = { cnn: accOf(innerTruth, innerC), functionals: accOf(innerTruth, innerF), combined: accOf(innerTruth, [...trainProbs.values()]) };
      }
    }
    if (opts.posteriorsDir) {
      writePosteriorsCsv(join(opts.posteriorsDir, `fold${k}`, 'test.csv'), plan.valItems.map((it, i) => ({ clipId: it.clip.clipId, probs: valProbs[i] })));
      if (plan.splits.length > 0) {
        writePosteriorsCsv(join(opts.posteriorsDir, `fold${k}`, 'train.csv'), plan.trainItems.map((it) => ({ clipId: it.clip.clipId, probs: trainProbs.get(it.clip.clipId)! })));
      }
    }
    const acc = accOf(truth, valProbs);
    const wAcc = accOf(windows.map((w) => w.label), windows.map((w) => w.probs));
    const memberAccuracies = memberProbs.map((ps) => accOf(truth, ps));
    foldResults.set(k, {
      probs: valProbs, windows,
      result: {
        fold: k, validationActors: plan.valActors, trainActors: plan.trainActors, innerSplits: plan.splits, accuracy: acc,
        windowAccuracy: wAcc, windows: windows.length, memberAccuracies,
        cnnAccuracy: accOf(truth, cnnProbs), cnnWindowAccuracy: accOf(stream.windows.map((w) => w.label), stream.windows.map((w) => w.probs)),
        ...extra,
        coreSeconds: plan.keys.reduce((s, key) => s + results.get(key)!.seconds, 0) + (fOut?.seconds ?? 0),
      },
    });
    const r = foldResults.get(k)!.result;
    log(`fold ${k}: clip accuracy ${(acc * 100).toFixed(2)} %${K > 1 ? ` (CNN members ${memberAccuracies.map((a) => (a * 100).toFixed(2)).join(' / ')})` : ''}, window accuracy ${(wAcc * 100).toFixed(2)} %`
      + (fOut ? `; CNN ${(r.cnnAccuracy * 100).toFixed(2)} %, functionals ${(r.functionalsAccuracy! * 100).toFixed(2)} %, CNN weight ${r.weightCnn}` : ''));
  };
  const tryFinish = (results: Map<string, WorkerTaskResult>) => {
    for (const plan of plans) {
      if (foldResults.has(plan.fold) || !plan.keys.every((key) => done.has(key))) continue;
      if (prep && !functionalFolds.has(plan.fold)) continue;
      finishFold(plan, results);
    }
  };

  const partial = new Map<string, WorkerTaskResult>();
  const poolDone = runTaskPool(ds, tasks, {
    jobs: opts.jobs,
    onProgress: opts.onProgress,
    onTaskDone: (task, r, p) => {
      partial.set(task.key, r);
      done.add(task.key);
      log(`[${p.tasksDone}/${p.tasks}] ${task.label} done in ${Math.round(r.seconds)} s`);
      tryFinish(partial);
    },
  });
  // The functionals models train on this (main) thread while the workers train the CNNs; they are small.
  let functionalsAll: FunctionalModel[] = [];
  let functionalSeconds = prep?.seconds ?? 0;
  const functionalWork = (async () => {
    if (!prep || !fcfg) return;
    for (const plan of plans) {
      const out = await runFunctionalFold(prep, { fold: plan.fold, trainItems: plan.trainItems, valItems: plan.valItems, splits: plan.splits }, fcfg, opts.train.seed);
      functionalFolds.set(plan.fold, out);
      functionalSeconds += out.seconds;
      log(`fold ${plan.fold} functionals models (outer + ${plan.splits.length} inner, ${fcfg.seeds} seeds each) done in ${Math.round(out.seconds)} s`);
      tryFinish(partial);
    }
    if (opts.trainAllActors) {
      const t = performance.now();
      functionalsAll = await trainAllActorsFunctionals(prep, ds.items, fcfg, opts.train.seed);
      functionalSeconds += (performance.now() - t) / 1000;
    }
  })();
  const [results] = await Promise.all([poolDone, functionalWork]);
  tryFinish(results);
  const out: CvResult = {
    folds: [], clipPosteriors: [], windowPredictions: [], seconds: 0,
    allActorsMembers: exportTasks.map((t) => (results.get(t.key) as Extract<WorkerTaskResult, { kind: 'train' }>).weights),
    coreSeconds: [...results.values()].reduce((s, r) => s + r.seconds, 0) + functionalSeconds,
  };
  if (prep) {
    const weights = [...foldResults.values()].map((f) => f.result.weightCnn!).filter((w) => w !== undefined);
    out.functionals = {
      allActorsMembers: functionalsAll,
      weightCnn: weights.length > 0 ? Math.round((weights.reduce((a, b) => a + b, 0) / weights.length) * 100) / 100 : DEFAULT_WEIGHT_CNN,
      pitchRefs: prep.pitchRefs, seconds: functionalSeconds, prepared: prep,
    };
  }
  for (const plan of plans) {
    const f = foldResults.get(plan.fold)!;
    out.folds.push(f.result);
    f.probs.forEach((probs, i) => out.clipPosteriors.push({ item: plan.valItems[i], probs, fold: plan.fold }));
    f.windows.forEach((w) => out.windowPredictions.push({ ...w, fold: plan.fold }));
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}
