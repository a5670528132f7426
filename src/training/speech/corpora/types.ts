import type { Emotion } from '../../../protocol/labels.js';

/** One labelled clip of any corpus, as every corpus reader hands it out. */
export interface CorpusClip {
  corpus: string;
  /** Unique across corpora: `<corpus>:<file>`. */
  clipId: string;
  /** Absolute path of the 16 kHz mono WAV file. */
  path: string;
  /** Where the label came from (`labels.csv:17`, or the RAVDESS file name), for error messages. */
  source: string;
  /** Corpus-prefixed speaker id (`ravdess_07`, `ased_07`, `urdu_SM3`): never collides across corpora. */
  speaker: string;
  gender?: string;
  emotion: Emotion;
  /** 0-based index into EMOTIONS. */
  emotionIndex: number;
  /** Corpus-specific columns (ASED `sentence_type`, ...). */
  extra: Record<string, string>;
}

export interface Corpus {
  name: string;
  dir: string;
  clips: CorpusClip[];
  /** The emotions this corpus has at least one clip of, in EMOTIONS order (a class it lacks is masked in training). */
  emotions: Emotion[];
  speakers: string[];
}

/** Anything that can list a corpus (RAVDESS by its file names, the extra corpora by their labels.csv). */
export interface CorpusReader {
  readonly name: string;
  read(): Corpus;
}
