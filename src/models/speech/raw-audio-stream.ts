import type { SpeechStream } from '../../contracts/models.js';
import { SampleSanitizer } from './sanitize.js';

/** What a raw-audio SpeechStream hands to inferBatch: the window's samples, ready for a wav2vec2-style graph. */
export interface RawAudioWindow {
  kind: 'raw-audio';
  /** modelSamples samples; left-padded with zeros when less audio was available. */
  samples: Float32Array;
  validSamples: number;
  endSample: number;
}

/**
 * Keeps the last `historySamples` samples of a session. Windows are the model's fixed input length; shorter requests
 * or sessions are zero-padded on the left, longer requests are cropped to the newest samples. With `normalize`,
 * the valid samples are scaled to zero mean and unit variance (Wav2Vec2FeatureExtractor's do_normalize).
 */
export class RawAudioSpeechStream implements SpeechStream<RawAudioWindow> {
  private readonly ring: Float32Array;
  private total = 0;
  private windows = 0;
  private readonly sanitizer = new SampleSanitizer();

  constructor(private readonly modelSamples: number, private readonly normalize: boolean, historySamples = modelSamples * 2) {
    this.ring = new Float32Array(Math.max(historySamples, modelSamples));
  }

  push(samples16k: Float32Array): void {
    const clean = this.sanitizer.clean(samples16k);
    const n = this.ring.length;
    const src = clean.length > n ? clean.subarray(clean.length - n) : clean;
    const skipped = clean.length - src.length;
    let at = (this.total + skipped) % n;
    for (let i = 0; i < src.length; i++) {
      this.ring[at] = src[i];
      if (++at === n) at = 0;
    }
    this.total += clean.length;
  }

  window(endSample: number, windowSamples: number): RawAudioWindow | null {
    if (!Number.isFinite(endSample) || !Number.isFinite(windowSamples) || windowSamples <= 0) {
      throw new Error(`speech window: bad endSample ${endSample} / windowSamples ${windowSamples}`);
    }
    const end = Math.min(Math.floor(endSample), this.total);
    if (end <= 0) return null;
    const want = Math.min(this.modelSamples, Math.floor(windowSamples));
    const start = Math.max(0, end - want, this.total - this.ring.length);
    const valid = end - start;
    if (valid <= 0) return null;
    const samples = new Float32Array(this.modelSamples);
    const offset = this.modelSamples - valid;
    for (let i = 0; i < valid; i++) samples[offset + i] = this.ring[(start + i) % this.ring.length];
    if (this.normalize) {
      let mean = 0;
      for (let i = offset; i < this.modelSamples; i++) mean += samples[i];
      mean /= valid;
      let v = 0;
      for (let i = offset; i < this.modelSamples; i++) v += (samples[i] - mean) ** 2;
      const std = Math.sqrt(v / valid + 1e-7);
      for (let i = offset; i < this.modelSamples; i++) samples[i] = (samples[i] - mean) / std;
    }
    this.windows++;
    return { kind: 'raw-audio', samples, validSamples: valid, endSample };
  }

  reset(): void {
    this.total = 0;
    this.windows = 0;
    this.ring.fill(0);
    this.sanitizer.reset();
  }

  stats(): Record<string, number> {
    return { samples: this.total, windows: this.windows, ...this.sanitizer.stats() };
  }
}
