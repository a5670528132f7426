import { DropOldestQueue } from '../lib/bounded-queue.js';
import { AudioInput, MODEL_SAMPLE_RATE, type AudioChunk, type AudioInputOutput, type MonoResampler } from './audio-input.js';

/**
 * The async edge of the audio path: the first chunk fixes the format and, unless it is already 16 kHz, starts
 * creating the resampler; chunks that arrive meanwhile wait in a bounded queue (the oldest is dropped past
 * `maxWaitingChunks`) and go through in order once it is ready. Every chunk is checked (format fixed, timestamps
 * forward) when it arrives, so a bad one is refused at once whether or not it has to wait.
 */
export class AudioIntake {
  private readonly input = new AudioInput();
  private readonly waiting: DropOldestQueue<AudioChunk>;
  private resamplerReady: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly createResampler: (inputRate: number) => Promise<MonoResampler>,
    maxWaitingChunks: number,
    private readonly onAudio: (out: AudioInputOutput) => void,
    onWaitingDropped: () => void,
  ) {
    this.waiting = new DropOldestQueue<AudioChunk>(maxWaitingChunks, onWaitingDropped);
  }

  /** Throws ProtocolError (EMO_ERR_STREAM_CHANGED, EMO_ERR_TIMESTAMP_BACKWARDS) for a chunk that does not fit the stream. */
  push(chunk: AudioChunk): void {
    const first = this.input.declaredFormat === null;
    this.input.admit(chunk);
    if (first && chunk.sampleRate !== MODEL_SAMPLE_RATE) {
      this.resamplerReady = this.createResampler(chunk.sampleRate).then((r) => {
        this.input.setResampler(r);
        this.resamplerReady = null;
        for (const c of this.waiting.clear()) this.convert(c);
      });
    }
    if (this.resamplerReady) this.waiting.push(chunk);
    else this.convert(chunk);
  }

  private convert(chunk: AudioChunk): void {
    if (!this.closed) this.onAudio(this.input.convert(chunk));
  }

  /** Resolves once the chunks waiting for the resampler have gone through (or its creation failed). */
  drained(): Promise<void> {
    return this.resamplerReady?.catch(() => undefined) ?? Promise.resolve();
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
    this.input.reset();
  }
}
