import { logMelFrames, LogMelFrameComputer } from '../../features/mel.js';
import { DEFAULT_MEL_CONFIG, type MelConfig } from '../../features/mel-config.js';
import { SpeakerStatsAccumulator, DEFAULT_ACTIVITY_GATE, type NormStats } from '../../features/speaker-norm.js';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { readClipAudio, type Corpus, type CorpusClip } from './corpora/index.js';
import { priorStats, type SpeechDataset, type SpeechItem } from './dataset.js';

/** First speaker number of the corpora other than RAVDESS (RAVDESS keeps its actor numbers 1-24). */
export const EXTRA_SPEAKER_BASE = 1001;

export interface MultiCorpusOptions {
  mel?: MelConfig;
  gate?: number;
  /**
   * Per-speaker log-mel statistics start from a prior (the mean of every speaker's own statistics) counted as this
   * many active frames, as the server's running normaliser does (300 = 3 s): a speaker with two short clips is then
   * normalised mostly with the prior instead of with noisy statistics of ~400 frames. 0 = each speaker's own only
   * (what the RAVDESS-only training does: RAVDESS actors have ~60 clips each).
   */
  speakerPriorFrames: number;
  /** Only these clips of a corpus (e.g. ASED common sentences for evaluation); default all. */
  filter?: (clip: CorpusClip) => boolean;
  onProgress?: (done: number, total: number) => void;
}

/** The 8-class mask of a corpus: 1 for each emotion it has a clip of. */
export function corpusClassMask(corpus: Corpus): Uint8Array {
  const mask = new Uint8Array(NUM_EMOTIONS);
  for (const c of corpus.clips) mask[c.emotionIndex] = 1;
  return mask;
}

/**
 * Every clip of several corpora as one SpeechDataset (log-mel by the server's front end), items tagged with their
 * corpus and class mask; per-speaker statistics with a prior (`speakerPriorFrames`). Speaker numbers: RAVDESS actors
 * keep 1-24 (so the paper's folds apply unchanged), other speakers get EXTRA_SPEAKER_BASE + k in corpus order.
 */
export function loadMultiCorpusDataset(corpora: Corpus[], opts: MultiCorpusOptions): SpeechDataset & { speakerNames: Map<number, string> } {
  const mel = opts.mel ?? DEFAULT_MEL_CONFIG;
  const gate = opts.gate ?? DEFAULT_ACTIVITY_GATE;
  const computer = new LogMelFrameComputer(mel);
  const items: SpeechItem[] = [];
  const speakerNames = new Map<number, string>();
  const speakerNumber = new Map<string, number>();
  let next = EXTRA_SPEAKER_BASE;
  const total = corpora.reduce((s, c) => s + c.clips.filter((x) => !opts.filter || opts.filter(x)).length, 0);
  for (const corpus of corpora) {
    const mask = corpusClassMask(corpus);
    for (const clip of corpus.clips) {
      if (opts.filter && !opts.filter(clip)) continue;
      let actor = speakerNumber.get(clip.speaker);
      if (actor === undefined) {
        actor = corpus.name === 'ravdess' ? Number(clip.extra.actor) : next++;
        if (!Number.isInteger(actor)) throw new Error(`${clip.source}: RAVDESS clip without an actor number`);
        speakerNumber.set(clip.speaker, actor);
        speakerNames.set(actor, clip.speaker);
      }
      const logMel = logMelFrames(readClipAudio(clip), mel, computer);
      items.push({ clip: { clipId: clip.clipId, path: clip.path }, logMel, frames: logMel.length / mel.melBands, label: clip.emotionIndex, actor, corpus: corpus.name, classMask: mask });
      opts.onProgress?.(items.length, total);
    }
  }
  return { mel, items, actorStats: speakerStatsWithPrior(items, mel.melBands, gate, opts.speakerPriorFrames), speakerNames };
}

/**
 * Per-speaker log-mel statistics; with `priorFrames` > 0 each speaker's accumulator starts from the mean of all
 * speakers' own statistics (or those of `priorActors`: the training speakers, so a held-out corpus shapes no prior)
 * counted as that many frames (shrinks speakers with few frames towards the prior).
 */
export function speakerStatsWithPrior(items: SpeechItem[], bands: number, gate: number, priorFrames: number, priorActors?: number[]): Map<number, NormStats> {
  const own = (prior?: { stats: NormStats; weightFrames: number }) => {
    const accs = new Map<number, SpeakerStatsAccumulator>();
    for (const it of items) {
      let acc = accs.get(it.actor);
      if (!acc) accs.set(it.actor, (acc = new SpeakerStatsAccumulator(bands, gate, prior)));
      acc.addAll(it.logMel);
    }
    return new Map([...accs].map(([a, acc]) => [a, acc.stats()]));
  };
  const plain = own();
  if (priorFrames <= 0) return plain;
  return own({ stats: priorStats(plain, priorActors ?? [...plain.keys()]), weightFrames: priorFrames });
}

export interface BalanceOptions {
  /**
   * A corpus's total weight is proportional to (its clip count)^corpusPower: 1 = as sampled (the largest corpus
   * dominates), 0 = every corpus weighs the same.
   */
  corpusPower: number;
  /** Within a corpus, a speaker's total weight is proportional to (their clip count)^speakerPower. */
  speakerPower: number;
}

export const DEFAULT_BALANCE: BalanceOptions = { corpusPower: 0.5, speakerPower: 0.5 };

/**
 * A weight per item so that corpora and speakers count as `opts` says (a speaker's clips share the speaker's weight
 * equally); normalised to mean 1 over the items.
 */
export function balanceWeights(items: SpeechItem[], opts: BalanceOptions = DEFAULT_BALANCE): Map<SpeechItem, number> {
  const corpusOf = (it: SpeechItem) => it.corpus ?? 'ravdess';
  const perCorpus = new Map<string, number>(), perSpeaker = new Map<string, number>();
  const speakerKey = (it: SpeechItem) => `${corpusOf(it)}\u0000${it.actor}`;
  for (const it of items) {
    perCorpus.set(corpusOf(it), (perCorpus.get(corpusOf(it)) ?? 0) + 1);
    perSpeaker.set(speakerKey(it), (perSpeaker.get(speakerKey(it)) ?? 0) + 1);
  }
  // Speaker totals within each corpus, before scaling the corpus to its share.
  const speakerMass = new Map<string, number>();
  for (const [key, n] of perSpeaker) {
    const corpus = key.split('\u0000')[0];
    speakerMass.set(corpus, (speakerMass.get(corpus) ?? 0) + n ** opts.speakerPower);
  }
  const raw = new Map<SpeechItem, number>();
  for (const it of items) {
    const c = corpusOf(it), n = perSpeaker.get(speakerKey(it))!;
    const corpusShare = perCorpus.get(c)! ** opts.corpusPower;
    const speakerShare = n ** opts.speakerPower / speakerMass.get(c)!;
    raw.set(it, (corpusShare * speakerShare) / n);
  }
  const mean = [...raw.values()].reduce((a, b) => a + b, 0) / Math.max(1, raw.size);
  for (const [it, w] of raw) raw.set(it, w / mean);
  return raw;
}
