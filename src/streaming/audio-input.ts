import { ProtocolError } from '../protocol/v1/errors.js';

/** Target rate of every audio model in emostream. */
export const MODEL_SAMPLE_RATE = 16000;

/** A streaming sample-rate converter for mono float audio; keeps filter state across calls. */
export interface MonoResampler {
  readonly inputRate: number;
  process(mono: Float32Array): Float32Array;
  dispose(): void;
}

/** Passthrough for audio already at 16 kHz. */
export const identityResampler: MonoResampler = {
  inputRate: MODEL_SAMPLE_RATE,
  process: (mono) => mono,
  dispose: () => undefined,
};

/** Averages interleaved channels into one (a stereo pair becomes (L + R) / 2). */
export function mixdownToMono(interleaved: Float32Array, channels: number): Float32Array {
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += interleaved[i * channels + c];
    out[i] = s / channels;
  }
  return out;
}

export interface AudioChunk {
  /** Client presentation time of the chunk's first sample. */
  ptsUs: number;
  sampleRate: number;
  channels: number;
  interleaved: Float32Array;
}

export interface AudioInputOutput {
  /** Mono 16 kHz samples. */
  samples16k: Float32Array;
  ptsUs: number;
}

/**
 * Stage 1 of the audio path: checks that the format stays fixed and timestamps never go backwards, mixes down to
 * mono and resamples to 16 kHz. Pure and synchronous; the resampler (wasm libsamplerate) is created by the async
 * adapter before the first chunk of a given format.
 */
export class AudioInput {
  private format: { sampleRate: number; channels: number } | null = null;
  private lastPtsUs = -Infinity;
  private chunks = 0;
  private inputFrames = 0;
  private outputSamples = 0;

  constructor(private resampler: MonoResampler | null = null) {}

  /** The format of the stream, fixed by its first chunk. */
  get declaredFormat(): { sampleRate: number; channels: number } | null {
    return this.format;
  }

  /** Validates a chunk against the stream so far without consuming it (the adapter may need to create a resampler). */
  check(chunk: AudioChunk): void {
    if (this.format && (chunk.sampleRate !== this.format.sampleRate || chunk.channels !== this.format.channels)) {
      throw new ProtocolError('EMO_ERR_STREAM_CHANGED', `audio changed from ${this.format.sampleRate} Hz x${this.format.channels} to ${chunk.sampleRate} Hz x${chunk.channels} mid-stream`);
    }
    if (chunk.ptsUs < this.lastPtsUs) {
      throw new ProtocolError('EMO_ERR_TIMESTAMP_BACKWARDS', `audio ptsUs ${chunk.ptsUs} < previous ${this.lastPtsUs}`);
    }
  }

  setResampler(resampler: MonoResampler): void {
    this.resampler = resampler;
  }

  /**
   * Accepts a chunk into the stream (checks it, fixes the format on the first, moves the timestamp on) without
   * converting it yet: the adapter holds chunks that arrive while the resampler for the format is being created.
   */
  admit(chunk: AudioChunk): void {
    this.check(chunk);
    if (!this.format) this.format = { sampleRate: chunk.sampleRate, channels: chunk.channels };
    this.lastPtsUs = chunk.ptsUs;
  }

  /** Mixes an admitted chunk down to mono and resamples it to 16 kHz. */
  convert(chunk: AudioChunk): AudioInputOutput {
    const resampler = this.resampler ?? (chunk.sampleRate === MODEL_SAMPLE_RATE ? identityResampler : null);
    if (!resampler || resampler.inputRate !== chunk.sampleRate) {
      throw new Error(`no ${chunk.sampleRate} Hz resampler set before the first chunk`);
    }
    const mono = mixdownToMono(chunk.interleaved, chunk.channels);
    const samples16k = resampler.process(mono);
    this.chunks++;
    this.inputFrames += mono.length;
    this.outputSamples += samples16k.length;
    return { samples16k, ptsUs: chunk.ptsUs };
  }

  push(chunk: AudioChunk): AudioInputOutput {
    this.admit(chunk);
    return this.convert(chunk);
  }

  reset(): void {
    this.format = null;
    this.lastPtsUs = -Infinity;
    this.resampler?.dispose();
    this.resampler = null;
  }

  stats(): Record<string, number> {
    return { chunks: this.chunks, inputFrames: this.inputFrames, outputSamples: this.outputSamples };
  }
}
