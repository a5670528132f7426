import { EMOTIONS, type Emotion } from '../../protocol/labels.js';
import { DEFAULT_ACTIVITY_GATE } from '../../features/speaker-norm.js';
import type { VoiceTracks } from '../../features/functionals.js';
import { initTf } from '../tf.js';
import { RavdessCorpusReader, evaluationClips, extraCorpusReaders, type Corpus } from './corpora/index.js';
import type { SpeechDataset, SpeechItem } from './dataset.js';
import { actorPitchRefs, computeFunctionalData, computePitchTracks, predictFunctionalClips, trainFunctionalMembers } from './functional-data.js';
import { DEFAULT_FUNCTIONAL_CONFIG, type FunctionalCvConfig } from './functional-cv.js';
import { balanceWeights, loadMultiCorpusDataset, speakerStatsWithPrior, type BalanceOptions } from './multi-corpus.js';
import { augmentNames, loadMultiCorpusData } from './multi-corpus-data.js';
import type { WaveAugmentConfig } from './wave-augment.js';

/**
 * Leave-one-corpus-out evaluation of the speech model's functionals MLP (the shipped recipe's second model: window
 * functionals of the speaker-normalised log-mel, YIN pitch, voice quality and shape, z-scored per speaker): train on
 * every other corpus (classes a corpus lacks masked, corpora and speakers balanced), test on the held-out corpus's
 * clips of the emotions both sides share, posterior restricted to those emotions. Held-out speakers are never trained
 * on (a whole corpus is held out: speaker-grouped by construction) and shape no normalisation prior.
 */
export interface CrossCorpusOptions {
  heldOut: string[];
  seeds: number;
  /** Epochs of each functionals MLP (the shipped recipe: 30). */
  epochs: number;
  balance: BalanceOptions;
  /** Prior weights of the per-speaker statistics (log-mel frames, pitch frames, functional windows). */
  speakerPriorFrames: number;
  speakerPriorPitchFrames: number;
  speakerPriorWindows: number;
  config?: FunctionalCvConfig;
  /** One waveform-augmented copy of every clip (train speech --augment); a held-out corpus's copies are never used. */
  augment?: WaveAugmentConfig | null;
  corpora?: Corpus[];
  log?: (msg: string) => void;
}

export interface HeldOutResult {
  heldOut: string;
  trainedOn: string[];
  emotions: Emotion[];
  clips: number;
  speakers: number;
  accuracy: number;
  /** Unweighted average recall over the shared emotions. */
  uar: number;
  chance: number;
  /** Share of the most frequent shared emotion among the test clips (always guessing it scores this). */
  majority: number;
  recall: Record<string, number>;
  /** confusion[true][predicted] over the shared emotions, in `emotions` order. */
  confusion: number[][];
  trainClips: number;
  seconds: number;
}

export function readAllCorpora(): Corpus[] {
  return [new RavdessCorpusReader().read(), ...extraCorpusReaders().map((r) => r.read())];
}

/** Accuracy, UAR and confusion of clip posteriors restricted (renormalised) to `emotions`. */
export function scoreRestricted(probs: Float32Array[], labels: number[], emotions: Emotion[]): Pick<HeldOutResult, 'accuracy' | 'uar' | 'recall' | 'confusion' | 'majority' | 'chance'> {
  const idx = emotions.map((e) => EMOTIONS.indexOf(e));
  const confusion = emotions.map(() => emotions.map(() => 0));
  let correct = 0;
  probs.forEach((p, i) => {
    let best = 0;
    for (let k = 1; k < idx.length; k++) if (p[idx[k]] > p[idx[best]]) best = k;
    const truth = idx.indexOf(labels[i]);
    if (truth < 0) throw new Error(`scoreRestricted: label ${EMOTIONS[labels[i]]} is not among ${emotions.join(', ')}`);
    confusion[truth][best]++;
    if (best === truth) correct++;
  });
  const recall: Record<string, number> = {};
  emotions.forEach((e, k) => { const n = confusion[k].reduce((a, b) => a + b, 0); recall[e] = n > 0 ? confusion[k][k] / n : NaN; });
  const present = Object.values(recall).filter(Number.isFinite);
  const counts = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  return {
    accuracy: correct / Math.max(1, probs.length), uar: present.reduce((a, b) => a + b, 0) / Math.max(1, present.length),
    recall, confusion, chance: 1 / emotions.length, majority: Math.max(...counts) / Math.max(1, probs.length),
  };
}

interface Prepared {
  all: SpeechDataset;
  pitch: Map<SpeechItem, Float32Array>;
  voice?: Map<SpeechItem, VoiceTracks>;
}

/** Log-mel and pitch (and voice-quality tracks) once for every clip of every corpus. */
async function prepare(corpora: Corpus[], cfg: FunctionalCvConfig, log: (m: string) => void, augment?: WaveAugmentConfig | null): Promise<Prepared> {
  const t0 = performance.now();
  if (augment) {
    // Copies keep their source clip's corpus name, so holding a corpus out holds its copies out too.
    const m = await loadMultiCorpusData({ corpora: corpora.map((c) => c.name), augment, pitch: cfg.pitch, voiceQuality: cfg.voiceQuality, speakerPriorFrames: 0, seed: cfg.model.seed + 77, robustness: false, log });
    log(`augmented copies: ${augmentNames(augment).join('+')}`);
    return { all: m.ds, pitch: m.pitch, voice: m.voice };
  }
  const all = loadMultiCorpusDataset(corpora, { speakerPriorFrames: 0 });
  const voice = cfg.voiceQuality ? new Map<SpeechItem, VoiceTracks>() : undefined;
  const pitch = await computePitchTracks(all, cfg.pitch, voice);
  log(`features of ${all.items.length} clips (${corpora.map((c) => `${c.name} ${c.clips.length}`).join(', ')}): ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return { all, pitch, voice };
}

/**
 * Trains the functionals ensemble on `trainItems` (masked, balanced) and returns the clip posteriors of `testItems`.
 * Speaker statistics of every speaker start from priors of the TRAINING speakers only.
 */
async function trainAndPredict(prep: Prepared, trainItems: SpeechItem[], testItems: SpeechItem[], opts: CrossCorpusOptions, cfg: FunctionalCvConfig, seed: number): Promise<Float32Array[]> {
  const items = [...trainItems, ...testItems];
  const trainActors = [...new Set(trainItems.map((it) => it.actor))];
  const mel = prep.all.mel;
  const ds: SpeechDataset = { mel, items, actorStats: speakerStatsWithPrior(items, mel.melBands, DEFAULT_ACTIVITY_GATE, opts.speakerPriorFrames, trainActors) };
  const refs = actorPitchRefs(items, prep.pitch, opts.speakerPriorPitchFrames, trainActors);
  const data = await computeFunctionalData(ds, prep.pitch, refs, {
    windowFrames: 300, trainHopFrames: cfg.trainHopFrames, evalHopFrames: 50, voice: prep.voice, spectroTemporal: cfg.spectroTemporal === true, shape: cfg.shape === true,
    speakerNorm: cfg.speakerNorm ? { keepRaw: cfg.speakerNormKeepRaw, priorWindows: opts.speakerPriorWindows, priorActors: trainActors } : undefined,
  });
  const tf = await initTf();
  const members = await trainFunctionalMembers(tf, data, trainItems, { ...cfg.model, epochs: opts.epochs }, opts.seeds, seed, undefined, balanceWeights(trainItems, opts.balance));
  return predictFunctionalClips(members, data, testItems);
}

export async function crossCorpusEval(opts: CrossCorpusOptions): Promise<HeldOutResult[]> {
  const log = opts.log ?? (() => undefined);
  const cfg = opts.config ?? DEFAULT_FUNCTIONAL_CONFIG;
  const corpora = opts.corpora ?? readAllCorpora();
  for (const h of opts.heldOut) if (!corpora.some((c) => c.name === h)) throw new Error(`--held-out: no corpus '${h}' (have ${corpora.map((c) => c.name).join(', ')})`);
  const prep = await prepare(corpora, cfg, log, opts.augment);
  const results: HeldOutResult[] = [];
  for (const held of opts.heldOut) {
    const t1 = performance.now();
    const heldCorpus = corpora.find((c) => c.name === held)!;
    const trainCorpora = corpora.filter((c) => c.name !== held);
    const trainEmotions = new Set(trainCorpora.flatMap((c) => c.emotions));
    const emotions = heldCorpus.emotions.filter((e) => trainEmotions.has(e));
    const evalIds = new Set(evaluationClips(heldCorpus).filter((c) => emotions.includes(c.emotion)).map((c) => c.clipId));
    const trainItems = prep.all.items.filter((it) => it.corpus !== held);
    // The held-out corpus's clips that are scored; its other clips (ASED emotion-specific sentences) are not used at all.
    const testItems = prep.all.items.filter((it) => it.corpus === held && evalIds.has(it.clip.clipId));
    const probs = await trainAndPredict(prep, trainItems, testItems, opts, cfg, cfg.model.seed + 7000);
    const score = scoreRestricted(probs, testItems.map((it) => it.label), emotions);
    const r: HeldOutResult = {
      heldOut: held, trainedOn: trainCorpora.map((c) => c.name), emotions, clips: testItems.length,
      speakers: new Set(testItems.map((it) => it.actor)).size, ...score, trainClips: trainItems.length, seconds: (performance.now() - t1) / 1000,
    };
    log(`${held}: ${(100 * r.accuracy).toFixed(2)} % (UAR ${(100 * r.uar).toFixed(2)} %, chance ${(100 * r.chance).toFixed(1)} %, majority ${(100 * r.majority).toFixed(1)} %) on ${r.clips} clips of ${r.speakers} speakers, ${emotions.length} emotions; trained on ${r.trainedOn.join(' + ')} (${r.trainClips} clips), ${r.seconds.toFixed(0)} s`);
    results.push(r);
  }
  return results;
}

export interface FoldResult {
  fold: number;
  validationActors: number[];
  /** Functionals ensemble trained on the fold's RAVDESS training actors only / plus every clip of the extra corpora. */
  ravdessOnly: number;
  withExtra: number;
}

/**
 * The paper's RAVDESS folds with and without the extra corpora as additional training data (validation actors are
 * never trained on; their folds unchanged): does more data of other speakers and languages help on RAVDESS?
 */
export async function ravdessFoldsWithExtra(opts: CrossCorpusOptions & { folds: number[][]; onlyFolds?: number[] }): Promise<FoldResult[]> {
  const log = opts.log ?? (() => undefined);
  const cfg = opts.config ?? DEFAULT_FUNCTIONAL_CONFIG;
  const corpora = opts.corpora ?? readAllCorpora();
  const prep = await prepare(corpora, cfg, log);
  const out: FoldResult[] = [];
  for (const [k, val] of opts.folds.entries()) {
    if (opts.onlyFolds && !opts.onlyFolds.includes(k)) continue;
    const isVal = (it: SpeechItem) => it.corpus === 'ravdess' && val.includes(it.actor);
    const testItems = prep.all.items.filter(isVal);
    const ravdessTrain = prep.all.items.filter((it) => it.corpus === 'ravdess' && !isVal(it));
    const extra = prep.all.items.filter((it) => it.corpus !== 'ravdess');
    const acc = async (train: SpeechItem[]) => scoreRestricted(await trainAndPredict(prep, train, testItems, opts, cfg, cfg.model.seed + 1000 * (k + 1)), testItems.map((it) => it.label), [...EMOTIONS]).accuracy;
    const r: FoldResult = { fold: k, validationActors: val, ravdessOnly: await acc(ravdessTrain), withExtra: await acc([...ravdessTrain, ...extra]) };
    log(`fold ${k}: RAVDESS only ${(100 * r.ravdessOnly).toFixed(2)} %, + extra corpora ${(100 * r.withExtra).toFixed(2)} % (${testItems.length} validation clips)`);
    out.push(r);
  }
  return out;
}
