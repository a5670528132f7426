import { join } from 'node:path';
import { loadFolds } from '../ravdess.js';
import { readPosteriorsCsv, writePosteriorsCsv } from '../posteriors.js';
import { accuracy, argmax } from '../metrics.js';
import { initTf } from '../tf.js';
import type { SpeechItem } from './dataset.js';
import { innerActorSplits } from './cv.js';
import { chooseWeight, combinePosteriors } from './combine.js';
import { functionalSeed, type FunctionalCvConfig } from './functional-cv.js';
import { actorPitchRefs, computeFunctionalData, predictFunctionalClips, trainFunctionalMembers, type FunctionalData } from './functional-data.js';
import type { FunctionalModel } from './functional-model.js';
import { balanceWeights, type BalanceOptions } from './multi-corpus.js';
import { sourceSpeaker, type MultiCorpusData } from './multi-corpus-data.js';

/**
 * The functionals half of the speech model trained on several corpora (and augmented copies), on the paper's RAVDESS
 * folds, combined with the CNN's existing out-of-fold posteriors exactly as the shipped recipe combines (cv.ts): per
 * fold the functionals ensemble is trained on everything except the fold's RAVDESS validation actors (and their
 * copies), and on the same two subject-wise inner splits of the fold's RAVDESS training actors (the extra corpora
 * stay in every inner training set: they only ever add data); the CNN weight w is chosen on the inner-split posteriors.
 */
export interface MultiCvOptions {
  cfg: FunctionalCvConfig;
  balance: BalanceOptions;
  /** Prior weights of the per-speaker pitch reference (voiced frames) and functional statistics (windows). */
  speakerPriorPitchFrames: number;
  /** Folder of the CNN's out-of-fold posteriors (fold<k>/test.csv, fold<k>/train.csv). */
  cnnPosteriorsDir: string;
  innerSplits: number;
  baseSeed: number;
  onlyFolds?: number[];
  /** Write the combination's posteriors (fold<k>/{test,train}.csv) and the functionals model's own (functionals/). */
  posteriorsDir: string | null;
  trainAllActors: boolean;
  log?: (m: string) => void;
}

export interface MultiFold {
  fold: number;
  validationActors: number[];
  trainClips: number;
  cnn: number;
  functionals: number;
  combined: number;
  weightCnn: number;
  inner: { cnn: number; functionals: number; combined: number };
  /** Functionals model alone on the validation clips in each robustness condition. */
  robust: Record<string, number>;
  seconds: number;
}

export interface MultiCvResult {
  folds: MultiFold[];
  mean: { cnn: number; functionals: number; combined: number };
  pooled: { combined: number };
  /** Mean of the folds' weights, rounded to 0.01 (the shipped model's). */
  weightCnn: number;
  allActorsMembers: FunctionalModel[];
  data: FunctionalData;
  pitchRefs: Map<number, number>;
  seconds: number;
}

/** Window functionals of every item (priors averaged over the real speakers, never over augmented copies). */
export async function multiCorpusFunctionals(m: MultiCorpusData, cfg: FunctionalCvConfig, speakerPriorPitchFrames: number): Promise<{ data: FunctionalData; refs: Map<number, number> }> {
  const refs = actorPitchRefs(m.ds.items, m.pitch, speakerPriorPitchFrames, m.realSpeakers);
  const data = await computeFunctionalData(m.ds, m.pitch, refs, {
    windowFrames: 300, trainHopFrames: cfg.trainHopFrames, evalHopFrames: 50, voice: m.voice, spectroTemporal: cfg.spectroTemporal === true, shape: cfg.shape === true,
    speakerNorm: cfg.speakerNorm ? { keepRaw: cfg.speakerNormKeepRaw, priorWindows: cfg.speakerNormPriorWeightWindows, priorActors: m.realSpeakers } : undefined,
  });
  return { data, refs };
}

const isRavdess = (it: SpeechItem) => (it.corpus ?? 'ravdess') === 'ravdess';

export async function runMultiCorpusFunctionalCv(m: MultiCorpusData, opts: MultiCvOptions): Promise<MultiCvResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const { cfg } = opts;
  const { data, refs } = await multiCorpusFunctionals(m, cfg, opts.speakerPriorPitchFrames);
  log(`window functionals of ${m.ds.items.length} items (${data.dims} per window) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const tf = await initTf();
  const fit = (items: SpeechItem[], seed: number) => trainFunctionalMembers(tf, data, items, cfg.model, cfg.seeds, seed, cfg.subsetMembers, balanceWeights(items, opts.balance));
  const folds = loadFolds();
  const ravdess = m.originals.filter(isRavdess);
  const ravdessActors = [...new Set(ravdess.map((it) => it.actor))].sort((a, b) => a - b);
  const out: MultiFold[] = [];
  const pooled = { truth: [] as number[], pred: [] as number[] };
  const acc = (t: number[], ps: ArrayLike<number>[]) => accuracy(t, ps.map((p) => argmax(p)));
  for (let k = 0; k < folds.length; k++) {
    if (opts.onlyFolds && !opts.onlyFolds.includes(k)) continue;
    const t1 = performance.now();
    const val = folds[k];
    // Nothing of a validation actor is trained on: neither their clips nor augmented copies of them.
    const heldBy = (actors: number[]) => (it: SpeechItem) => isRavdess(it) && actors.includes(sourceSpeaker(it.actor));
    const trainItems = m.trainPool.filter((it) => !heldBy(val)(it));
    const valItems = ravdess.filter((it) => val.includes(it.actor));
    const ravTrain = ravdess.filter((it) => !val.includes(it.actor));
    const splits = innerActorSplits(ravdessActors.filter((a) => !val.includes(a)), opts.innerSplits);
    const outer = await fit(trainItems, functionalSeed(opts.baseSeed, k));
    const valProbs = predictFunctionalClips(outer, data, valItems);
    // The same fold models on the validation clips in other channels (functionals half only: no CNN fold weights kept).
    const robust = Object.fromEntries(m.conditions.map((c) => {
      const its = c.items.filter((it) => val.includes(it.actor % 1000));
      return [c.name, acc(its.map((it) => it.label), predictFunctionalClips(outer, data, its))];
    }));
    const innerF = new Map<SpeechItem, Float32Array>();
    for (let s = 0; s < splits.length; s++) {
      const held = ravTrain.filter((it) => splits[s].includes(it.actor));
      const members = await fit(trainItems.filter((it) => !heldBy(splits[s])(it)), functionalSeed(opts.baseSeed, k, s));
      predictFunctionalClips(members, data, held).forEach((p, i) => innerF.set(held[i], p));
    }
    const cnnOf = (file: string) => {
      const rows = new Map(readPosteriorsCsv(join(opts.cnnPosteriorsDir, `fold${k}`, file)).map((r) => [r.clipId, r.probs]));
      return (it: SpeechItem) => {
        const p = rows.get(it.clip.clipId);
        if (!p) throw new Error(`fold ${k}: no CNN posterior for ${it.clip.clipId} in ${join(opts.cnnPosteriorsDir, `fold${k}`, file)}`);
        return p;
      };
    };
    const cnnVal = valItems.map(cnnOf('test.csv'));
    const cnnInner = ravTrain.map(cnnOf('train.csv'));
    const fInner = ravTrain.map((it) => innerF.get(it)!);
    const innerTruth = ravTrain.map((it) => it.label);
    const w = chooseWeight(innerTruth, cnnInner, fInner);
    const comb = valItems.map((_, i) => combinePosteriors(cnnVal[i], valProbs[i], w));
    const combInner = ravTrain.map((_, i) => combinePosteriors(cnnInner[i], fInner[i], w));
    const truth = valItems.map((it) => it.label);
    if (opts.posteriorsDir) {
      const rows = (items: SpeechItem[], ps: Float32Array[]) => items.map((it, i) => ({ clipId: it.clip.clipId, probs: ps[i] }));
      writePosteriorsCsv(join(opts.posteriorsDir, `fold${k}`, 'test.csv'), rows(valItems, comb));
      writePosteriorsCsv(join(opts.posteriorsDir, `fold${k}`, 'train.csv'), rows(ravTrain, combInner));
      writePosteriorsCsv(join(opts.posteriorsDir, 'functionals', `fold${k}`, 'test.csv'), rows(valItems, valProbs));
      writePosteriorsCsv(join(opts.posteriorsDir, 'functionals', `fold${k}`, 'train.csv'), rows(ravTrain, fInner));
    }
    const f: MultiFold = {
      fold: k, validationActors: val, trainClips: trainItems.length,
      cnn: acc(truth, cnnVal), functionals: acc(truth, valProbs), combined: acc(truth, comb), weightCnn: w,
      inner: { cnn: acc(innerTruth, cnnInner), functionals: acc(innerTruth, fInner), combined: acc(innerTruth, combInner) }, robust,
      seconds: (performance.now() - t1) / 1000,
    };
    pooled.truth.push(...truth);
    pooled.pred.push(...comb.map((p) => argmax(p)));
    const pct = (x: number) => (100 * x).toFixed(2);
    log(`fold ${k}: combined ${pct(f.combined)} % (CNN ${pct(f.cnn)} %, functionals ${pct(f.functionals)} %, CNN weight ${w}; inner ${pct(f.inner.cnn)} / ${pct(f.inner.functionals)} / ${pct(f.inner.combined)} %), ${f.trainClips} training items, ${f.seconds.toFixed(0)} s`
      + Object.entries(robust).map(([c, a]) => `; ${c} ${pct(a)} %`).join(''));
    out.push(f);
  }
  const mean = (g: (f: MultiFold) => number) => out.reduce((s, f) => s + g(f), 0) / Math.max(1, out.length);
  const weightCnn = out.length > 0 ? Math.round(mean((f) => f.weightCnn) * 100) / 100 : NaN;
  let allActorsMembers: FunctionalModel[] = [];
  if (opts.trainAllActors) {
    allActorsMembers = await fit(m.trainPool, functionalSeed(opts.baseSeed, -1));
    log(`all-actors functionals ensemble (${m.trainPool.length} items) trained`);
  }
  return {
    folds: out, mean: { cnn: mean((f) => f.cnn), functionals: mean((f) => f.functionals), combined: mean((f) => f.combined) },
    pooled: { combined: accuracy(pooled.truth, pooled.pred) }, weightCnn, allActorsMembers, data, pitchRefs: refs, seconds: (performance.now() - t0) / 1000,
  };
}
