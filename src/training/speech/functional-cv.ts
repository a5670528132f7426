import { DEFAULT_PITCH_CONFIG, type PitchConfig } from '../../features/pitch.js';
import { initTf } from '../tf.js';
import { priorStats, type SpeechDataset, type SpeechItem } from './dataset.js';
import { DEFAULT_FUNCTIONAL_MODEL, type FunctionalModel, type FunctionalModelConfig } from './functional-model.js';
import { actorPitchRefs, computeFunctionalData, computePitchTracks, predictFunctionalClips, trainFunctionalMembers, type FunctionalData, type SubsetMembers } from './functional-data.js';
import type { FunctionalNormStats, VoiceTracks } from '../../features/functionals.js';

/**
 * The second speech model trained alongside the CNN: an MLP on window functionals of the log-mel frames and the pitch
 * track (src/features/functionals.ts). Chosen on the CNN's existing out-of-fold posteriors with inner-split weights
 * (models/speech/NOTES.md, "Third session").
 */
export interface FunctionalCvConfig {
  model: FunctionalModelConfig;
  /** Seed-ensemble members (mean posterior). */
  seeds: number;
  /** Training crops every this many frames (3 s windows; a dense version of the CNN's random crops). */
  trainHopFrames: number;
  pitch: PitchConfig;
  /** Voiced frames the streaming pitch reference's prior counts for. */
  pitchPriorWeightFrames: number;
  /** Add the voice-quality group (YIN aperiodicity, CMND minimum, voiced energy change, spectral flux) to the functionals. */
  voiceQuality: boolean;
  /** Add the spectro-temporal group (cepstral dynamics, energy modulation spectrum); absent = off (older configurations). */
  spectroTemporal?: boolean;
  /** Add the shape group (pitch-contour shape, energy and band-group skewness); absent = off (older configurations). */
  shape?: boolean;
  /**
   * Mixed-input ensemble: after the `seeds` members on all functionals, this many members on the first `dims` only
   * (widened with zero weights, so the graph's input is unchanged); absent = none.
   */
  subsetMembers?: SubsetMembers;
  /** Z-score every functional with the speaker's functional statistics. */
  speakerNorm: boolean;
  /** With speakerNorm: give the model [raw, normalised] (true) or the normalised functionals only (false). */
  speakerNormKeepRaw: boolean;
  /** Windows the streaming functional normaliser's prior counts for (one window per 0.5 s hop). */
  speakerNormPriorWeightWindows: number;
}

export const DEFAULT_FUNCTIONAL_CONFIG: FunctionalCvConfig = {
  model: DEFAULT_FUNCTIONAL_MODEL,
  seeds: 3,
  trainHopFrames: 10,
  pitch: DEFAULT_PITCH_CONFIG,
  pitchPriorWeightFrames: 150,
  // Fourth session (models/speech/NOTES.md): voice-quality group + per-speaker z-scored functionals (normalised only)
  // had the best inner-split combined accuracy of the variants tried.
  voiceQuality: true,
  // Fifth session (models/speech/NOTES.md): the shape group (pitch-contour shape, energy and band-group skewness) was
  // the one variant that passed the inner-split rule (inner combined 64.60 -> 65.44 %).
  shape: true,
  speakerNorm: true,
  speakerNormKeepRaw: false,
  speakerNormPriorWeightWindows: 20,
};

/** CNN weight of the combination when no CV chose one (export without --cv): the mean of the last CV's fold weights. */
export const DEFAULT_WEIGHT_CNN = 0.6;

/** Seed of the functionals model of fold k, inner split s (-1 = outer), or the all-actors model (fold -1). */
export function functionalSeed(base: number, fold: number, split = -1): number {
  return fold < 0 ? base + 50_000 : base + 1000 * (fold + 1) + 101 * (split + 1);
}

export interface FunctionalFoldInput {
  fold: number;
  trainItems: SpeechItem[];
  valItems: SpeechItem[];
  splits: number[][];
}

export interface FunctionalFoldOutput {
  valProbs: Float32Array[];
  /** Out-of-fold posterior of every training clip (from the inner split that held its actor out). */
  innerProbs: Map<SpeechItem, Float32Array>;
  members: FunctionalModel[];
  seconds: number;
}

export interface FunctionalPrepared {
  data: FunctionalData;
  /** Mean log2 F0 per actor (all of their clips). */
  pitchRefs: Map<number, number>;
  /** Per actor: statistics of each raw functional over their scored windows (with speaker normalisation). */
  functionalStats?: Map<number, FunctionalNormStats>;
  seconds: number;
}

/** Pitch tracks and window functionals of every clip (about 20 s; run before the training pool starts). */
export async function prepareFunctionals(ds: SpeechDataset, cfg: FunctionalCvConfig, windowFrames: number, evalHopFrames: number): Promise<FunctionalPrepared> {
  const t0 = performance.now();
  const voice = cfg.voiceQuality ? new Map<SpeechItem, VoiceTracks>() : undefined;
  const pitch = await computePitchTracks(ds, cfg.pitch, voice);
  const pitchRefs = actorPitchRefs(ds.items, pitch);
  const data = await computeFunctionalData(ds, pitch, pitchRefs, { windowFrames, trainHopFrames: cfg.trainHopFrames, evalHopFrames, speakerNorm: cfg.speakerNorm ? { keepRaw: cfg.speakerNormKeepRaw } : undefined, voice, spectroTemporal: cfg.spectroTemporal === true, shape: cfg.shape === true });
  return {
    data, pitchRefs, seconds: (performance.now() - t0) / 1000,
    ...(data.actorFunctionalStats ? { functionalStats: data.actorFunctionalStats } : {}),
  };
}

/** The stream's functional normaliser settings for a model trained on `actors` (undefined without speaker normalisation). */
export function streamSpeakerNorm(prep: FunctionalPrepared, cfg: FunctionalCvConfig, actors: number[]): { prior: FunctionalNormStats; weightWindows: number; keepRaw: boolean } | undefined {
  if (!cfg.speakerNorm) return undefined;
  if (!prep.functionalStats) throw new Error('speaker-normalised functionals: no per-actor functional statistics were computed');
  return { prior: priorStats(prep.functionalStats, actors), weightWindows: cfg.speakerNormPriorWeightWindows, keepRaw: cfg.speakerNormKeepRaw };
}

/** Outer and inner-split functionals models of one fold, trained on the main thread (yielding to the event loop). */
export async function runFunctionalFold(prep: FunctionalPrepared, f: FunctionalFoldInput, cfg: FunctionalCvConfig, baseSeed: number): Promise<FunctionalFoldOutput> {
  const t0 = performance.now();
  const tf = await initTf();
  const members = await trainFunctionalMembers(tf, prep.data, f.trainItems, cfg.model, cfg.seeds, functionalSeed(baseSeed, f.fold), cfg.subsetMembers);
  const valProbs = predictFunctionalClips(members, prep.data, f.valItems);
  const innerProbs = new Map<SpeechItem, Float32Array>();
  for (let s = 0; s < f.splits.length; s++) {
    const held = f.trainItems.filter((i) => f.splits[s].includes(i.actor));
    const inner = await trainFunctionalMembers(tf, prep.data, f.trainItems.filter((i) => !f.splits[s].includes(i.actor)), cfg.model, cfg.seeds, functionalSeed(baseSeed, f.fold, s), cfg.subsetMembers);
    predictFunctionalClips(inner, prep.data, held).forEach((p, i) => innerProbs.set(held[i], p));
  }
  return { valProbs, innerProbs, members, seconds: (performance.now() - t0) / 1000 };
}

/** The shipped functionals ensemble, trained on every clip. */
export async function trainAllActorsFunctionals(prep: FunctionalPrepared, items: SpeechItem[], cfg: FunctionalCvConfig, baseSeed: number): Promise<FunctionalModel[]> {
  const tf = await initTf();
  return trainFunctionalMembers(tf, prep.data, items, cfg.model, cfg.seeds, functionalSeed(baseSeed, -1), cfg.subsetMembers);
}
