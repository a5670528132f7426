import { readWav } from '../src/features/wav.js';

/**
 * A WAV file as s16le samples for the wire (the bench and tests send PCM s16 frames). Decoding is the project's one
 * WAV reader; 16-bit input round-trips exactly (it decodes to k / 32768). Multi-channel files arrive mixed to mono.
 */
export function readWavS16(path: string): { samples: Int16Array; sampleRate: number } {
  const { samples, sampleRate } = readWav(path);
  const s16 = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) s16[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768)));
  return { samples: s16, sampleRate };
}
