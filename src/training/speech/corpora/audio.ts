import { readFileSync } from 'node:fs';
import { decodeWav } from '../../../features/wav.js';
import type { CorpusClip } from './types.js';

export const CORPUS_SAMPLE_RATE = 16000;

/**
 * The clip's samples (16 kHz mono). A file that is not a WAV we can decode, or of another rate, is an error naming the
 * file and the labels line (resampling is left to the corpus's preparation: ffmpeg -ar 16000, as ../shared/extra was made).
 */
export function readClipAudio(clip: CorpusClip): Float32Array {
  let audio;
  try {
    audio = decodeWav(readFileSync(clip.path), clip.path);
  } catch (err) {
    throw new Error(`${clip.source}: ${clip.path} is not a readable WAV file (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (audio.sampleRate !== CORPUS_SAMPLE_RATE) {
    throw new Error(`${clip.source}: ${clip.path} is ${audio.sampleRate} Hz; corpora must be ${CORPUS_SAMPLE_RATE} Hz mono (convert with ffmpeg -ar ${CORPUS_SAMPLE_RATE} -ac 1)`);
  }
  if (audio.samples.length === 0) throw new Error(`${clip.source}: ${clip.path} holds no samples`);
  return audio.samples;
}
