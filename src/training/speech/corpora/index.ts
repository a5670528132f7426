import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DIR } from '../../ravdess.js';
import { LabelsCsvCorpusReader } from './labels-csv.js';
import { RavdessCorpusReader } from './ravdess.js';
import type { Corpus, CorpusClip, CorpusReader } from './types.js';

export type { Corpus, CorpusClip, CorpusReader };
export { LabelsCsvCorpusReader, RavdessCorpusReader };
export { readClipAudio } from './audio.js';
export { ravdessSpeaker } from './ravdess.js';

export const EXTRA_SPEECH_DIR = join(SHARED_DIR, 'extra', 'speech');

/** One reader per sub-folder of `dir` (../shared/extra/speech: ased, urdu); each must hold a labels.csv. */
export function extraCorpusReaders(dir = EXTRA_SPEECH_DIR): CorpusReader[] {
  if (!existsSync(dir)) throw new Error(`extra speech corpora folder not found: ${dir}`);
  const subdirs = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  if (subdirs.length === 0) throw new Error(`${dir}: no corpus folders`);
  return subdirs.map((d) => new LabelsCsvCorpusReader(join(dir, d)));
}

/** Reader by name: `ravdess`, or a folder name under the extra corpora (`ased`, `urdu`). */
export function corpusReader(name: string, extraDir = EXTRA_SPEECH_DIR): CorpusReader {
  return name === 'ravdess' ? new RavdessCorpusReader() : new LabelsCsvCorpusReader(join(extraDir, name), name);
}

/**
 * The clips a corpus is evaluated on: ASED without its emotion-specific sentences (their words carry the label:
 * ../shared/extra/README.md), every clip otherwise.
 */
export function evaluationClips(corpus: Corpus): CorpusClip[] {
  if (corpus.name === 'ased') return corpus.clips.filter((c) => c.extra.sentence_type === 'common');
  return corpus.clips;
}
