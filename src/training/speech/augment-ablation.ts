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
import { addColouredNoise, augmentWave, DEFAULT_WAVE_AUGMENT, type WaveAugmentConfig } from './wave-augment.js';
import { speakerStatsWithPrior } from './multi-corpus.js';

/**
 * Does waveform augmentation make the functionals MLP hold up under noise? One RAVDESS fold (validation actors never
 * trained on): train on the fold's clean clips alone, or plus one augmented copy of each (noise + babble only, or
 * every augmentation), and score the validation clips clean and with pink noise at 10 dB. Augmented copies and
 * noisy validation clips count as separate pseudo-speakers, so their speaker statistics come from the same channel
 * (as a server session's running statistics would).
 */
export interface AblationRow { arm: string; clean: number; noise10: number; trainClips: number }

const NOISE_ONLY: WaveAugmentConfig = { ...DEFAULT_WAVE_AUGMENT, gain: false, speed: false, reverb: false, opus: false, telephone: false };

export async function augmentAblation(opts: { validationActors: number[]; seeds: number; epochs: number; log?: (m: string) => void }): Promise<AblationRow[]> {
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
  const clean: SpeechItem[] = [], noiseCopies: SpeechItem[] = [], allCopies: SpeechItem[] = [], valClean: SpeechItem[] = [], valNoisy: SpeechItem[] = [];
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
  // Babble from other training clips; copies as pseudo-speakers actor + 300 (noise only) and + 500 (all).
  clean.forEach((it, i) => {
    const others = [0, 1, 2].map(() => trainAudio[Math.floor(rand() * trainAudio.length)]);
    noiseCopies.push(make(augmentWave(trainAudio[i], NOISE_ONLY, rand, others, 1), `${it.clip.clipId}+noise`, it.clip.path, it.label, it.actor + 300));
    allCopies.push(make(augmentWave(trainAudio[i], DEFAULT_WAVE_AUGMENT, rand, others, 0.5), `${it.clip.clipId}+aug`, it.clip.path, it.label, it.actor + 500));
  });
  log(`features of ${clean.length} training clips, 2 x ${noiseCopies.length} augmented copies, ${valClean.length} validation clips clean and noisy: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const tf = await initTf();
  const rows: AblationRow[] = [];
  for (const [arm, extra] of [['clean only', []], ['+ noise/babble copies (5-20 dB)', noiseCopies], ['+ copies with every augmentation (p 0.5 each)', allCopies]] as const) {
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
