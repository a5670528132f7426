import { LogMelFrameComputer, logMelFrames } from '../../features/mel.js';
import { DEFAULT_MEL_CONFIG } from '../../features/mel-config.js';
import { pitchFrameCount, pitchFrames, type PitchConfig } from '../../features/pitch.js';
import { DEFAULT_ACTIVITY_GATE } from '../../features/speaker-norm.js';
import type { VoiceTracks } from '../../features/functionals.js';
import { loadFolds } from '../ravdess.js';
import { rng } from '../random.js';
import { corpusReader, readClipAudio, type Corpus, type CorpusClip } from './corpora/index.js';
import type { SpeechDataset, SpeechItem } from './dataset.js';
import { corpusClassMask, EXTRA_SPEAKER_BASE, speakerStatsWithPrior } from './multi-corpus.js';
import { yieldToLoop } from './functional-data.js';
import { addColouredNoise, augmentWave, DEFAULT_WAVE_AUGMENT, opusRoundTrip, type WaveAugmentConfig } from './wave-augment.js';

/**
 * Training data of `emostream train speech --corpora ... --augment ...` (issue 19): every clip of the named corpora
 * (RAVDESS actors keep 1-24, so the paper's folds apply unchanged) plus, with augmentation, one waveform-augmented
 * copy of each clip. A copy is its own pseudo-speaker (COPY_SPEAKER_OFFSET + the source speaker): its per-speaker
 * statistics come from audio of the same channel, as a server session's running statistics would.
 */
export const AUGMENT_NAMES = ['noise', 'babble', 'gain', 'speed', 'reverb', 'opus', 'telephone'] as const;
export type AugmentName = (typeof AUGMENT_NAMES)[number];

/** Speaker number of an augmented copy = this + the source clip's speaker number. */
export const COPY_SPEAKER_OFFSET = 100_000;

/** The speaker whose voice an item carries (the source speaker of an augmented copy). */
export const sourceSpeaker = (actor: number): number => (actor >= COPY_SPEAKER_OFFSET ? actor - COPY_SPEAKER_OFFSET : actor);

/** `none` or a comma-separated subset of AUGMENT_NAMES -> the waveform augmentation config (null = no copies). */
export function parseAugment(spec: string): WaveAugmentConfig | null {
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return null;
  const bad = names.filter((n) => !(AUGMENT_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    throw new Error(`--augment: '${bad.join(',') || spec}' is not an augmentation; give none or a comma-separated list of ${AUGMENT_NAMES.join(', ')}`);
  }
  const cfg: WaveAugmentConfig = { ...DEFAULT_WAVE_AUGMENT };
  for (const n of AUGMENT_NAMES) cfg[n] = names.includes(n);
  return cfg;
}

/** The augmentations a config switches on, in AUGMENT_NAMES order. */
export const augmentNames = (cfg: WaveAugmentConfig | null): AugmentName[] => (cfg ? AUGMENT_NAMES.filter((n) => cfg[n]) : []);

/** `ravdess,ased,urdu` -> corpus names; RAVDESS must be among them (the CV folds are RAVDESS's). */
export function parseCorpora(spec: string): string[] {
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.includes('ravdess')) throw new Error(`--corpora must include ravdess (the paper's CV folds are RAVDESS actors; got '${spec}')`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`--corpora names ${dup} twice`);
  const bad = names.find((n) => !/^[a-z0-9_-]+$/.test(n));
  if (bad) throw new Error(`--corpora: '${bad}' is not a corpus folder name (lower-case letters, digits, _ and -)`);
  return ['ravdess', ...names.filter((n) => n !== 'ravdess')];
}

/**
 * Channel conditions RAVDESS clips are also scored in (robustness table): each condition's clips are never trained
 * on and form their own pseudo-speakers (ROBUST_SPEAKER_OFFSET + 1000 c + actor), normalised with statistics of audio
 * in that channel.
 */
export const ROBUSTNESS_CONDITIONS = [
  { name: 'pink noise 20 dB SNR', apply: (x: Float32Array, seed: number) => addColouredNoise(x, 'pink', 20, seed) },
  { name: 'pink noise 10 dB SNR', apply: (x: Float32Array, seed: number) => addColouredNoise(x, 'pink', 10, seed) },
  { name: 'pink noise 5 dB SNR', apply: (x: Float32Array, seed: number) => addColouredNoise(x, 'pink', 5, seed) },
  { name: 'Opus 16 kbit/s', apply: (x: Float32Array) => opusRoundTrip(x, 16) },
] as const;
export const ROBUST_SPEAKER_OFFSET = 200_000;

export interface MultiCorpusData {
  ds: SpeechDataset;
  /** What training may draw from: the original clips and their augmented copies (not the robustness conditions). */
  trainPool: SpeechItem[];
  /** Per robustness condition, RAVDESS clips in that channel (scoring only). */
  conditions: { name: string; items: SpeechItem[] }[];
  pitch: Map<SpeechItem, Float32Array>;
  voice?: Map<SpeechItem, VoiceTracks>;
  corpora: Corpus[];
  /** Original clips (no copies) of every corpus, RAVDESS first. */
  originals: SpeechItem[];
  /** Speakers with real audio (not augmented copies): the population the normaliser priors are averaged over. */
  realSpeakers: number[];
  copies: number;
  seconds: number;
}

export interface MultiCorpusDataOptions {
  corpora: string[];
  augment: WaveAugmentConfig | null;
  pitch: PitchConfig;
  voiceQuality: boolean;
  /** Prior weight of each speaker's log-mel statistics in frames (few-clip speakers of the extra corpora). */
  speakerPriorFrames: number;
  seed: number;
  /** Also prepare every RAVDESS clip in each of ROBUSTNESS_CONDITIONS. */
  robustness: boolean;
  log?: (m: string) => void;
}

/**
 * Babble sources of a clip: other speakers of the same group. A RAVDESS clip's group is its actor's CV fold, so a
 * copy never carries the voice of a validation actor of another fold (babble from the fold's own actors only); an
 * extra corpus's group is the whole corpus.
 */
function babbleGroups(corpora: Corpus[]): (c: CorpusClip) => CorpusClip[] {
  const folds = loadFolds();
  const groupOf = (c: CorpusClip) => (c.corpus === 'ravdess' ? `ravdess/${folds.findIndex((f) => f.includes(Number(c.extra.actor)))}` : c.corpus);
  const groups = new Map<string, CorpusClip[]>();
  for (const corpus of corpora) for (const c of corpus.clips) groups.set(groupOf(c), [...(groups.get(groupOf(c)) ?? []), c]);
  return (c) => (groups.get(groupOf(c)) ?? []).filter((o) => o.speaker !== c.speaker);
}

/**
 * An augmented copy: with both noise and babble on, one of the two (equally likely) is always added (5-20 dB SNR);
 * every other enabled augmentation with probability 0.5 (the ablation's rates, models/speech/cross-corpus.md).
 */
export function augmentCopy(x: Float32Array, cfg: WaveAugmentConfig, rand: () => number, babble: Float32Array[]): Float32Array {
  const useBabble = cfg.babble && babble.length >= 3 && (!cfg.noise || rand() < 0.5);
  return augmentWave(x, { ...cfg, noise: cfg.noise && !useBabble, babble: useBabble }, rand, babble, 0.5, 1);
}

export async function loadMultiCorpusData(opts: MultiCorpusDataOptions): Promise<MultiCorpusData> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const mel = DEFAULT_MEL_CONFIG;
  const computer = new LogMelFrameComputer(mel);
  const corpora = opts.corpora.map((n) => corpusReader(n).read());
  const pitch = new Map<SpeechItem, Float32Array>();
  const voice = opts.voiceQuality ? new Map<SpeechItem, VoiceTracks>() : undefined;
  const make = (samples: Float32Array, clipId: string, path: string, label: number, actor: number, corpus: Corpus, mask: Uint8Array): SpeechItem => {
    const logMel = logMelFrames(samples, mel, computer);
    const it: SpeechItem = { clip: { clipId, path }, logMel, frames: logMel.length / mel.melBands, label, actor, corpus: corpus.name, classMask: mask };
    const n = pitchFrameCount(samples.length, mel);
    const v = voice ? { aperiodicity: new Float32Array(n), minCmnd: new Float32Array(n) } : undefined;
    const p = pitchFrames(samples, mel, opts.pitch, v);
    if (p.length !== it.frames) throw new Error(`${path}: ${p.length} pitch frames, ${it.frames} log-mel frames`);
    pitch.set(it, p);
    if (voice && v) voice.set(it, v);
    return it;
  };
  const speakerNumber = new Map<string, number>();
  let next = EXTRA_SPEAKER_BASE;
  const originals: SpeechItem[] = [], copies: SpeechItem[] = [];
  const conditions = opts.robustness ? ROBUSTNESS_CONDITIONS.map((c) => ({ name: c.name, items: [] as SpeechItem[] })) : [];
  const rand = rng(opts.seed);
  const othersOf = babbleGroups(corpora);
  for (const corpus of corpora) {
    const mask = corpusClassMask(corpus);
    for (const clip of corpus.clips) {
      let actor = speakerNumber.get(clip.speaker);
      if (actor === undefined) {
        actor = corpus.name === 'ravdess' ? Number(clip.extra.actor) : next++;
        if (!Number.isInteger(actor)) throw new Error(`${clip.source}: RAVDESS clip without an actor number`);
        speakerNumber.set(clip.speaker, actor);
      }
      const x = readClipAudio(clip);
      originals.push(make(x, clip.clipId, clip.path, clip.emotionIndex, actor, corpus, mask));
      if (opts.augment) {
        const pool = othersOf(clip);
        const babble = opts.augment.babble && pool.length >= 3 ? [0, 1, 2].map(() => readClipAudio(pool[Math.floor(rand() * pool.length)])) : [];
        const y = augmentCopy(x, opts.augment, rand, babble);
        copies.push(make(y, `${clip.clipId}+aug`, clip.path, clip.emotionIndex, COPY_SPEAKER_OFFSET + actor, corpus, mask));
      }
      if (corpus.name === 'ravdess') {
        conditions.forEach((c, i) => c.items.push(make(ROBUSTNESS_CONDITIONS[i].apply(x, 31 + originals.length), `${clip.clipId}+${i}`, clip.path, clip.emotionIndex, ROBUST_SPEAKER_OFFSET + 1000 * i + actor, corpus, mask)));
      }
      await yieldToLoop();
    }
  }
  const trainPool = [...originals, ...copies];
  const items = [...trainPool, ...conditions.flatMap((c) => c.items)];
  const realSpeakers = [...new Set(originals.map((it) => it.actor))].sort((a, b) => a - b);
  const ds: SpeechDataset = { mel, items, actorStats: speakerStatsWithPrior(items, mel.melBands, DEFAULT_ACTIVITY_GATE, opts.speakerPriorFrames, realSpeakers) };
  const seconds = (performance.now() - t0) / 1000;
  log(`features of ${originals.length} clips (${corpora.map((c) => `${c.name} ${c.clips.length}`).join(', ')}) and ${copies.length} augmented copies (${augmentNames(opts.augment).join('+') || 'none'}) in ${seconds.toFixed(0)} s`);
  return { ds, trainPool, conditions, pitch, voice, corpora, originals, realSpeakers, copies: copies.length, seconds };
}
