import { RAVDESS_DIR, listSpeechClips } from '../../ravdess.js';
import { join } from 'node:path';
import { corpusOf } from './labels-csv.js';
import type { Corpus, CorpusReader } from './types.js';

/** RAVDESS speaker id of an actor (1-24) and back: the corpus readers' speaker ids are strings. */
export const ravdessSpeaker = (actor: number): string => `ravdess_${String(actor).padStart(2, '0')}`;

/** RAVDESS through the corpus interface: labels from the file names (`MM-VV-EE-II-SS-RR-AA.wav`). */
export class RavdessCorpusReader implements CorpusReader {
  readonly name = 'ravdess';

  constructor(private readonly dir = join(RAVDESS_DIR, 'speech-16k')) {}

  read(): Corpus {
    const clips = listSpeechClips(this.dir).map((c) => ({
      corpus: this.name, clipId: c.clipId, path: c.path, source: c.path, speaker: ravdessSpeaker(c.actor),
      gender: c.actor % 2 === 1 ? 'male' : 'female', emotion: c.emotion, emotionIndex: c.emotionIndex,
      extra: { actor: String(c.actor), intensity: String(c.intensity), statement: String(c.statement) },
    }));
    return corpusOf(this.name, this.dir, clips, this.dir);
  }
}
