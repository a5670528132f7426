import type { SpeechStream } from '../../contracts/models.js';
import type { VoiceActivityStream } from './vad.js';

/** A speech stream that also tracks voice activity: what createStream() hands out when the model has a VAD. */
export interface VoicedStream {
  /** Share of the window [startSample, endSample) that the VAD calls speech (src/models/speech/vad.ts). */
  speechRatio(startSample: number, endSample: number): Promise<number>;
}

export function isVoicedStream(s: unknown): s is VoicedStream {
  return typeof (s as Partial<VoicedStream> | null)?.speechRatio === 'function';
}

/** The model's front-end stream and a voice-activity stream fed the same audio. */
export class VoicedSpeechStream<W> implements SpeechStream<W>, VoicedStream {
  constructor(private readonly inner: SpeechStream<W>, private readonly vad: VoiceActivityStream) {}

  push(samples16k: Float32Array): void {
    this.inner.push(samples16k);
    this.vad.push(samples16k);
  }

  window(endSample: number, windowSamples: number): W | null {
    return this.inner.window(endSample, windowSamples);
  }

  speechRatio(startSample: number, endSample: number): Promise<number> {
    return this.vad.speechRatio(startSample, endSample);
  }

  reset(): void {
    this.inner.reset();
    this.vad.reset();
  }

  close(): void {
    this.vad.close();
  }

  stats(): Record<string, number> {
    return { ...this.inner.stats(), ...this.vad.stats() };
  }
}
