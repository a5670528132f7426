import { LogMelFrameComputer, logMelFrames } from '../../features/mel.js';
import { DEFAULT_MEL_CONFIG } from '../../features/mel-config.js';
import { pitchFrames } from '../../features/pitch.js';
import { DEFAULT_ACTIVITY_GATE } from '../../features/speaker-norm.js';
import type { VoiceTracks } from '../../features/functionals.js';
import { EMOTIONS } from '../../protocol/labels.js';
import { rng } from '../random.js';
import { initTf } from '../tf.js';
import { RavdessCorpusReader, readClipAudio } from './corpora/index.js';
import type { SpeechDataset, SpeechItem } from './dataset.js';
import { actorPitchRefs, computeFunctionalData, predictFunctionalClips, trainFunctionalMembers, yieldToLoop } from './functional-data.js';
import { DEFAULT_FUNCTIONAL_CONFIG } from './functional-cv.js';
import { scoreRestricted } from './cross-corpus.js';
import { addColouredNoise, augmentWave, DEFAULT_WAVE_AUGMENT } from './wave-augment.js';
import { augmentCopy, parseAugment, type AugmentName } from './multi-corpus-data.js';
import { speakerStatsWithPrior } from './multi-corpus.js';

/**
 * What does each waveform augmentation buy the functionals MLP, clean and under noise? One RAVDESS fold (validation
 * actors never trained on): train on the fold's clean clips alone, or plus one augmented copy of each made with ONE
 * augmentation (always applied), with noise or babble (one of the two, as `train speech --augment noise,babble`
 * makes its copies), or with every augmentation (the additive one always, the others at p 0.5); score the
 * validation clips clean and with pink noise at 10 dB. Babble comes from the fold's other training actors. Augmented
 * copies and noisy validation clips count as separate pseudo-speakers, so their speaker statistics come from the
 * same channel (as a server session's running statistics would).
 */
export interface AblationRow { arm: string; clean: number; noise10: number; trainClips: number }

/** One arm per augmentation (train speech's names, AUGMENT_NAMES), in the order they are reported. */
const SINGLE = ['noise', 'babble', 'gain', 'speed', 'reverb', 'telephone', 'opus'] as const satisfies readonly AugmentName[];
/** The arms, in the order they are reported; `clean` trains without copies. */
export const ABLATION_ARMS = ['clean', ...SINGLE, 'noise,babble', 'all'] as const;
export type AblationArm = typeof ABLATION_ARMS[number];

/** One augmented copy for an ablation arm: a single augmentation always applied, or the `train speech` mixes. */
export function armCopy(arm: Exclude<AblationArm, 'clean'>, x: Float32Array, rand: () => number, babble: Float32Array[]): Float32Array {
  if (arm === 'all') return augmentCopy(x, DEFAULT_WAVE_AUGMENT, rand, babble);
  // The same configs as `train speech --augment <arm>` builds.
  const cfg = parseAugment(arm)!;
  return arm === 'noise,babble' ? augmentCopy(x, cfg, rand, babble) : augmentWave(x, cfg, rand, babble, 1, 1);
}

export async function augmentAblation(opts: { validationActors: number[]; seeds: number; epochs: number; arms?: readonly AblationArm[]; log?: (m: string) => void }): Promise<AblationRow[]> {
  const arms = opts.arms ?? ABLATION_ARMS;
  const log = opts.log ?? (() => undefined);
  const cfg = DEFAULT_FUNCTIONAL_CONFIG;
  const mel = DEFAULT_MEL_CONFIG;
  const computer = new LogMelFrameComputer(mel);
  const pitch = new Map<SpeechItem, Float32Array>(), voice = new Map<SpeechItem, VoiceTracks>();
  const make = (samples: Float32Array, clipId: string, path: string, label: number, actor: number): SpeechItem => {
    const logMel = logMelFrames(samples, mel, computer);
    const it: SpeechItem = { clip: { clipId, path }, logMel, frames: logMel.length / mel.melBands, label, actor, corpus: 'ravdess' };
    const frames = it.frames;
    const v = { aperiodicity: new Float32Array(frames), minCmnd: new Float32Array(frames) };
    pitch.set(it, pitchFrames(samples, mel, cfg.pitch, v));
    voice.set(it, v);
    return it;
  };
  const t0 = performance.now();
  const clips = new RavdessCorpusReader().read().clips;
  const rand = rng(77);
  const clean: SpeechItem[] = [], valClean: SpeechItem[] = [], valNoisy: SpeechItem[] = [];
  const trainAudio: Float32Array[] = [];
  for (const c of clips) {
    const actor = Number(c.extra.actor);
    const x = readClipAudio(c);
    const it = make(x, c.clipId, c.path, c.emotionIndex, actor);
    if (opts.validationActors.includes(actor)) {
      valClean.push(it);
      valNoisy.push(make(addColouredNoise(x, 'pink', 10, 31 + valNoisy.length), `${c.clipId}+noise10`, c.path, c.emotionIndex, actor + 700));
    } else {
      clean.push(it);
      trainAudio.push(x);
    }
    await yieldToLoop();
  }
  log(`features of ${clean.length} training clips, ${valClean.length} validation clips clean and noisy: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  // Babble: three other training clips of other actors, drawn per copy.
  const othersOf = (i: number): Float32Array[] => {
    const pool = clean.map((it, j) => j).filter((j) => clean[j].actor !== clean[i].actor);
    return [0, 1, 2].map(() => trainAudio[pool[Math.floor(rand() * pool.length)]]);
  };
  const copiesOf = async (arm: Exclude<AblationArm, 'clean'>, pseudoOffset: number): Promise<SpeechItem[]> => {
    const out: SpeechItem[] = [];
    for (let i = 0; i < clean.length; i++) {
      const it = clean[i];
      out.push(make(armCopy(arm, trainAudio[i], rand, othersOf(i)), `${it.clip.clipId}+${arm}`, it.clip.path, it.label, it.actor + pseudoOffset));
      if (i % 50 === 0) await yieldToLoop();
    }
    return out;
  };
  const tf = await initTf();
  const rows: AblationRow[] = [];
  for (const [k, arm] of arms.entries()) {
    // Copies are pseudo-speakers (actor + 300 + ...), made per arm so that only one arm's copies are in memory.
    const t1 = performance.now();
    const extra = arm === 'clean' ? [] : await copiesOf(arm, 300 + 100 * k);
    if (arm !== 'clean') log(`${arm}: ${extra.length} copies in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
    const train = [...clean, ...extra];
    const items = [...train, ...valClean, ...valNoisy];
    const trainActors = [...new Set(train.map((it) => it.actor))];
    const ds: SpeechDataset = { mel, items, actorStats: speakerStatsWithPrior(items, mel.melBands, DEFAULT_ACTIVITY_GATE, 0) };
    const refs = actorPitchRefs(items, pitch);
    const data = await computeFunctionalData(ds, pitch, refs, {
      windowFrames: 300, trainHopFrames: cfg.trainHopFrames, evalHopFrames: 50, voice, spectroTemporal: cfg.spectroTemporal === true, shape: cfg.shape === true,
      speakerNorm: cfg.speakerNorm ? { keepRaw: cfg.speakerNormKeepRaw, priorWindows: 0, priorActors: trainActors } : undefined,
    });
    const members = await trainFunctionalMembers(tf, data, train, { ...cfg.model, epochs: opts.epochs }, opts.seeds, cfg.model.seed + 1000);
    const score = (val: SpeechItem[]) => scoreRestricted(predictFunctionalClips(members, data, val), val.map((it) => it.label), [...EMOTIONS]).accuracy;
    const row = { arm, clean: score(valClean), noise10: score(valNoisy), trainClips: train.length };
    log(`${arm}: clean ${(100 * row.clean).toFixed(2)} %, pink noise 10 dB ${(100 * row.noise10).toFixed(2)} % (${row.trainClips} training clips)`);
    rows.push(row);
  }
  return rows;
}
