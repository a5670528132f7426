import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { EMOTIONS, type Emotion } from '../protocol/labels.js';

/** Where ../shared lives relative to the repository root; overridable for other layouts. */
export const SHARED_DIR = process.env.EMOSTREAM_SHARED_DIR ?? join(process.cwd(), '..', 'shared');
export const RAVDESS_DIR = join(SHARED_DIR, 'ravdess');

export interface RavdessName {
  /** Name without the modality field, e.g. `01-05-02-01-01-16`: the same for the .wav and the .mp4 of one performance. */
  clipId: string;
  modality: number;
  vocalChannel: number;
  /** 0-based index into EMOTIONS. */
  emotionIndex: number;
  emotion: Emotion;
  intensity: number;
  statement: number;
  repetition: number;
  actor: number;
}

/** Parses `MM-VV-EE-II-SS-RR-AA[.ext]`; throws with the offending name when it is not a RAVDESS name. */
export function parseRavdessName(fileName: string): RavdessName {
  const stem = basename(fileName).replace(/\.[^.]+$/, '');
  const parts = stem.split('-');
  if (parts.length !== 7 || parts.some((p) => !/^\d{2}$/.test(p))) {
    throw new Error(`not a RAVDESS file name (expected MM-VV-EE-II-SS-RR-AA): ${fileName}`);
  }
  const [modality, vocalChannel, emotion, intensity, statement, repetition, actor] = parts.map(Number);
  if (emotion < 1 || emotion > 8) throw new Error(`RAVDESS emotion code out of range 01..08 in ${fileName}`);
  if (actor < 1 || actor > 24) throw new Error(`RAVDESS actor out of range 01..24 in ${fileName}`);
  return {
    clipId: parts.slice(1).join('-'),
    modality, vocalChannel, emotionIndex: emotion - 1, emotion: EMOTIONS[emotion - 1],
    intensity, statement, repetition, actor,
  };
}

/** The paper's subject-wise folds: validation actors of each of the 5 folds. */
export function loadFolds(path = join(RAVDESS_DIR, 'folds.json')): number[][] {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { validationActors?: unknown };
  const folds = raw.validationActors;
  if (!Array.isArray(folds) || folds.some((f) => !Array.isArray(f) || f.some((a) => !Number.isInteger(a)))) {
    throw new Error(`${path}: expected {"validationActors": number[][]}`);
  }
  const seen = new Set<number>();
  for (const fold of folds as number[][]) for (const a of fold) {
    if (seen.has(a)) throw new Error(`${path}: actor ${a} is in more than one validation fold`);
    seen.add(a);
  }
  return folds as number[][];
}

export interface SpeechClip extends RavdessName { path: string }

/** All RAVDESS speech clips under `speech-16k/Actor_XX/`, sorted by clip id. */
export function listSpeechClips(dir = join(RAVDESS_DIR, 'speech-16k')): SpeechClip[] {
  if (!existsSync(dir)) throw new Error(`RAVDESS speech folder not found: ${dir}`);
  const clips: SpeechClip[] = [];
  for (const actorDir of readdirSync(dir).filter((d) => /^Actor_\d{2}$/.test(d)).sort()) {
    for (const f of readdirSync(join(dir, actorDir)).filter((f) => f.endsWith('.wav')).sort()) {
      clips.push({ ...parseRavdessName(f), path: join(dir, actorDir, f) });
    }
  }
  return clips.sort((a, b) => a.clipId.localeCompare(b.clipId));
}

export function hasShared(): boolean {
  return existsSync(join(RAVDESS_DIR, 'folds.json'));
}
