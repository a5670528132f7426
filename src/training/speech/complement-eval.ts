import { join } from 'node:path';
import { DEFAULT_PITCH_CONFIG } from '../../features/pitch.js';
import type { VoiceTracks } from '../../features/functionals.js';
import { loadFolds } from '../ravdess.js';
import { readPosteriorsCsv, writePosteriorsCsv } from '../posteriors.js';
import { accuracy, argmax } from '../metrics.js';
import { initTf } from '../tf.js';
import { loadSpeechDataset, type SpeechDataset, type SpeechItem } from './dataset.js';
import { innerActorSplits } from './cv.js';
import { DEFAULT_FUNCTIONAL_MODEL, type FunctionalModelConfig } from './functional-model.js';
import { actorPitchRefs, computeFunctionalData, computePitchTracks, predictFunctionalClips, trainFunctionalMembers, type SubsetMembers } from './functional-data.js';
import { chooseWeight, combinePosteriors } from './combine.js';

/**
 * Evaluates a window-functionals model as a complement to the CNN on the real subject-wise 5-fold CV, from the CNN's
 * existing out-of-fold posteriors: per fold, the functionals model is trained on the fold's training actors
 * (scores the validation clips) and on the same inner splits cv.ts uses (out-of-fold scores for the training clips).
 * The combination weight (weighted mean of log-posteriors) is chosen per fold on the inner-split posteriors only.
 */
export interface ComplementOptions {
  cnnPosteriorsDir: string;
  model: FunctionalModelConfig;
  /** Members of the functionals model's seed ensemble (mean posterior). */
  seeds: number;
  innerSplits: number;
  /** Frames between training crops (dense random-crop substitute) and between scored windows of a clip. */
  trainHopFrames: number;
  evalHopFrames: number;
  windowFrames: number;
  /** Descriptor groups to drop (ablation): 'pitch' zeroes the pitch functionals. */
  drop?: string[];
  /** Add the voice-quality functionals (aperiodicity, CMND minimum, voiced energy change, spectral flux). */
  voiceQuality?: boolean;
  /** Add the spectro-temporal functionals (cepstral dynamics, energy modulation spectrum). */
  spectroTemporal?: boolean;
  /** Add the shape functionals (pitch-contour shape, energy and band-group skewness). */
  shape?: boolean;
  /** Mixed-input ensemble: these members see only the first `dims` functionals. */
  subset?: SubsetMembers;
  /** Z-score every functional with the actor's functional statistics: [raw, normalised] (keepRaw) or normalised only. */
  speakerNorm?: { keepRaw: boolean };
  dataset?: SpeechDataset;
  /** Write the functionals model's posteriors here (fold<k>/test.csv: validation clips, train.csv: inner-split OOF). */
  posteriorsOut?: string;
  log?: (m: string) => void;
}

export interface ComplementFold {
  fold: number;
  cnn: number;
  functionals: number;
  combined: number;
  weightCnn: number;
  /** Inner-split (train.csv) accuracies at the chosen weight. */
  innerCnn: number; innerFunctionals: number; innerCombined: number;
}

export interface ComplementResult {
  folds: ComplementFold[];
  mean: { cnn: number; functionals: number; combined: number };
  /** Means over folds of the inner-split accuracies (the selection criterion of variants). */
  innerMean: { functionals: number; combined: number };
  pooled: { cnn: number; functionals: number; combined: number };
  seconds: number;
}

export async function evaluateFunctionalComplement(opts: ComplementOptions): Promise<ComplementResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const ds = opts.dataset ?? loadSpeechDataset();
  const voice = opts.voiceQuality ? new Map<SpeechItem, VoiceTracks>() : undefined;
  const pitch = await computePitchTracks(ds, DEFAULT_PITCH_CONFIG, voice);
  const refs = actorPitchRefs(ds.items, pitch);
  const data = await computeFunctionalData(ds, pitch, refs, {
    windowFrames: opts.windowFrames, trainHopFrames: opts.trainHopFrames, evalHopFrames: opts.evalHopFrames, dropPitch: opts.drop?.includes('pitch'),
    speakerNorm: opts.speakerNorm, voice, spectroTemporal: opts.spectroTemporal, shape: opts.shape,
  });
  log(`pitch and functionals of ${ds.items.length} clips (${data.dims} per window) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const tf = await initTf();
  const fitPredict = async (train: SpeechItem[], score: SpeechItem[], seed: number): Promise<Float32Array[]> =>
    predictFunctionalClips(await trainFunctionalMembers(tf, data, train, opts.model, opts.seeds, seed, opts.subset), data, score);

  const folds = loadFolds();
  const allActors = [...new Set(ds.items.map((i) => i.actor))].sort((a, b) => a - b);
  const result: ComplementFold[] = [];
  const pooled = { cnn: [] as number[], functionals: [] as number[], combined: [] as number[], truth: [] as number[] };
  for (let k = 0; k < folds.length; k++) {
    const valActors = folds[k];
    const trainActors = allActors.filter((a) => !valActors.includes(a));
    const trainItems = ds.items.filter((i) => trainActors.includes(i.actor));
    const valItems = ds.items.filter((i) => valActors.includes(i.actor));
    const cnnTest = new Map(readPosteriorsCsv(join(opts.cnnPosteriorsDir, `fold${k}`, 'test.csv')).map((r) => [r.clipId, r.probs]));
    const cnnTrain = new Map(readPosteriorsCsv(join(opts.cnnPosteriorsDir, `fold${k}`, 'train.csv')).map((r) => [r.clipId, r.probs]));
    const seed = opts.model.seed + 1000 * k;
    const valProbs = await fitPredict(trainItems, valItems, seed);
    const innerProbs = new Map<SpeechItem, Float32Array>();
    const splits = innerActorSplits(trainActors, opts.innerSplits);
    for (let s = 0; s < splits.length; s++) {
      const held = trainItems.filter((i) => splits[s].includes(i.actor));
      const probs = await fitPredict(trainItems.filter((i) => !splits[s].includes(i.actor)), held, seed + 101 * (s + 1));
      held.forEach((it, i) => innerProbs.set(it, probs[i]));
    }
    const get = (m: Map<string, Float32Array>, it: SpeechItem) => {
      const p = m.get(it.clip.clipId);
      if (!p) throw new Error(`fold ${k}: no CNN posterior for ${it.clip.clipId} in ${opts.cnnPosteriorsDir}`);
      return p;
    };
    const innerTruth = trainItems.map((i) => i.label);
    const innerCnn = trainItems.map((it) => get(cnnTrain, it));
    const innerF = trainItems.map((it) => innerProbs.get(it)!);
    if (opts.posteriorsOut) {
      writePosteriorsCsv(join(opts.posteriorsOut, `fold${k}`, 'test.csv'), valItems.map((it, i) => ({ clipId: it.clip.clipId, probs: valProbs[i] })));
      writePosteriorsCsv(join(opts.posteriorsOut, `fold${k}`, 'train.csv'), trainItems.map((it, i) => ({ clipId: it.clip.clipId, probs: innerF[i] })));
    }
    const w = chooseWeight(innerTruth, innerCnn, innerF);
    const truth = valItems.map((i) => i.label);
    const cnnP = valItems.map((it) => get(cnnTest, it));
    const comb = valItems.map((it, i) => combinePosteriors(cnnP[i], valProbs[i], w));
    const acc = (ps: ArrayLike<number>[], t: number[]) => accuracy(t, ps.map((p) => argmax(p)));
    const fr: ComplementFold = {
      fold: k, cnn: acc(cnnP, truth), functionals: acc(valProbs, truth), combined: acc(comb, truth), weightCnn: w,
      innerCnn: acc(innerCnn, innerTruth), innerFunctionals: acc(innerF, innerTruth),
      innerCombined: acc(innerTruth.map((_, i) => combinePosteriors(innerCnn[i], innerF[i], w)), innerTruth),
    };
    result.push(fr);
    pooled.truth.push(...truth);
    pooled.cnn.push(...cnnP.map((p) => argmax(p)));
    pooled.functionals.push(...valProbs.map((p) => argmax(p)));
    pooled.combined.push(...comb.map((p) => argmax(p)));
    log(`fold ${k}: CNN ${(fr.cnn * 100).toFixed(2)} %, functionals ${(fr.functionals * 100).toFixed(2)} %, combined ${(fr.combined * 100).toFixed(2)} % (CNN weight ${w}; inner: ${(fr.innerCnn * 100).toFixed(2)} / ${(fr.innerFunctionals * 100).toFixed(2)} / ${(fr.innerCombined * 100).toFixed(2)} %)`);
  }
  const mean = (f: (r: ComplementFold) => number) => result.reduce((s, r) => s + f(r), 0) / result.length;
  return {
    folds: result,
    mean: { cnn: mean((r) => r.cnn), functionals: mean((r) => r.functionals), combined: mean((r) => r.combined) },
    innerMean: { functionals: mean((r) => r.innerFunctionals), combined: mean((r) => r.innerCombined) },
    pooled: { cnn: accuracy(pooled.truth, pooled.cnn), functionals: accuracy(pooled.truth, pooled.functionals), combined: accuracy(pooled.truth, pooled.combined) },
    seconds: (performance.now() - t0) / 1000,
  };
}

export { DEFAULT_FUNCTIONAL_MODEL };
