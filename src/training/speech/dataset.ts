import { readWav } from '../../features/wav.js';
import { logMelFrames, LogMelFrameComputer } from '../../features/mel.js';
import { DEFAULT_MEL_CONFIG, type MelConfig } from '../../features/mel-config.js';
import { SpeakerStatsAccumulator, DEFAULT_ACTIVITY_GATE, type NormStats } from '../../features/speaker-norm.js';
import { listSpeechClips, type SpeechClip } from '../ravdess.js';

/** One speech clip (RAVDESS, or another corpus: src/training/speech/corpora) with its raw (un-normalised) log-mel frames. */
export interface SpeechItem {
  clip: Pick<SpeechClip, 'clipId' | 'path'>;
  /** frames x melBands, natural-log mel power. */
  logMel: Float32Array;
  frames: number;
  label: number;
  /** Speaker number: RAVDESS actors 1-24; speakers of other corpora from 1001 on (multi-corpus.ts). */
  actor: number;
  /** Corpus name (absent = RAVDESS, as before multi-corpus training). */
  corpus?: string;
  /**
   * 1 for each of the 8 classes the item's corpus has, 0 for those it lacks (masked in the loss, not negatives);
   * absent = all 8.
   */
  classMask?: Uint8Array;
}

export interface SpeechDataset {
  mel: MelConfig;
  items: SpeechItem[];
  /** Per-actor statistics over all of that actor's active frames (what the running normaliser converges to). */
  actorStats: Map<number, NormStats>;
}

/** Reads every clip and computes its log-mel frames with the server's front end (about 15 s for 1,440 clips). */
export function loadSpeechDataset(opts: { dir?: string; clips?: SpeechClip[]; mel?: MelConfig; gate?: number; onProgress?: (done: number, total: number) => void } = {}): SpeechDataset {
  const mel = opts.mel ?? DEFAULT_MEL_CONFIG;
  const clips = opts.clips ?? listSpeechClips(opts.dir);
  const computer = new LogMelFrameComputer(mel);
  const items: SpeechItem[] = [];
  clips.forEach((clip, i) => {
    const audio = readWav(clip.path);
    if (audio.sampleRate !== mel.sampleRate) throw new Error(`${clip.path}: ${audio.sampleRate} Hz, the front end needs ${mel.sampleRate} Hz`);
    const logMel = logMelFrames(audio.samples, mel, computer);
    items.push({ clip, logMel, frames: logMel.length / mel.melBands, label: clip.emotionIndex, actor: clip.actor });
    opts.onProgress?.(i + 1, clips.length);
  });
  const accs = new Map<number, SpeakerStatsAccumulator>();
  for (const it of items) {
    let acc = accs.get(it.actor);
    if (!acc) accs.set(it.actor, (acc = new SpeakerStatsAccumulator(mel.melBands, opts.gate ?? DEFAULT_ACTIVITY_GATE)));
    acc.addAll(it.logMel);
  }
  const actorStats = new Map<number, NormStats>();
  for (const [actor, acc] of accs) actorStats.set(actor, acc.stats());
  return { mel, items, actorStats };
}

/**
 * A streaming normaliser's prior (log-mel bands or window functionals): the average of the per-speaker means and
 * standard deviations of the given (training) actors, so the first windows of a new session are scaled like a
 * typical training speaker.
 */
export function priorStats(actorStats: Map<number, NormStats>, actors: number[]): NormStats {
  if (actors.length === 0) throw new Error('priorStats: no actors');
  const first = actorStats.get(actors[0]);
  if (!first) throw new Error(`priorStats: no statistics for actor ${actors[0]}`);
  const bands = first.mean.length;
  const mean = new Float32Array(bands), std = new Float32Array(bands);
  for (const a of actors) {
    const s = actorStats.get(a);
    if (!s) throw new Error(`priorStats: no statistics for actor ${a}`);
    for (let b = 0; b < bands; b++) { mean[b] += s.mean[b] / actors.length; std[b] += s.std[b] / actors.length; }
  }
  return { mean, std };
}
