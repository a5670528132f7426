import { AU_VECTOR_LENGTH, NUM_EMOTIONS } from '../../src/protocol/labels.js';
import type { AudioChunk } from '../../src/streaming/audio-input.js';
import type { AuWindow, SpeechStream } from '../../src/contracts/models.js';
import type { InferOutcome } from '../../src/models/infer-outcome.js';
import type { PipelineModels } from '../../src/streaming/pipeline-models.js';

/**
 * The one helper that feeds stages synthetic frames: contiguous sine audio in fixed-size chunks and AU vectors at
 * a frame rate, all on one clock starting at `startUs`.
 */
export function sineChunks(opts: { seconds: number; sampleRate: number; channels?: 1 | 2; chunkMs?: number; freqHz?: number; startUs?: number; amplitude?: number }): AudioChunk[] {
  const { seconds, sampleRate } = opts;
  const channels = opts.channels ?? 1;
  const chunkFrames = Math.round((sampleRate * (opts.chunkMs ?? 20)) / 1000);
  const total = Math.round(seconds * sampleRate);
  const out: AudioChunk[] = [];
  for (let start = 0; start < total; start += chunkFrames) {
    const n = Math.min(chunkFrames, total - start);
    const interleaved = new Float32Array(n * channels);
    for (let i = 0; i < n; i++) {
      const v = (opts.amplitude ?? 0.5) * Math.sin((2 * Math.PI * (opts.freqHz ?? 440) * (start + i)) / sampleRate);
      for (let c = 0; c < channels; c++) interleaved[i * channels + c] = v;
    }
    out.push({ ptsUs: (opts.startUs ?? 0) + Math.round((start * 1e6) / sampleRate), sampleRate, channels, interleaved });
  }
  return out;
}

export function auFrames(opts: { seconds: number; fps?: number; startUs?: number; value?: (frame: number, col: number) => number }): { ptsUs: number; aus: Float32Array }[] {
  const fps = opts.fps ?? 30;
  const n = Math.round(opts.seconds * fps);
  return Array.from({ length: n }, (_, k) => ({
    ptsUs: (opts.startUs ?? 0) + Math.round((k * 1e6) / fps),
    aus: Float32Array.from({ length: AU_VECTOR_LENGTH }, (_, j) => opts.value?.(k, j) ?? ((k + j) % 5) / 5),
  }));
}

/** Test-double speech stream: the "window" is the count of samples and their RMS, enough to check the plumbing. */
export class RmsSpeechStream implements SpeechStream<{ endSample: number; samples: number; rms: number }> {
  private buf: number[] = [];
  push(samples16k: Float32Array): void {
    for (const s of samples16k) this.buf.push(s);
  }
  window(endSample: number, windowSamples: number) {
    const lo = Math.max(0, endSample - windowSamples);
    const hi = Math.min(endSample, this.buf.length);
    if (hi <= lo) return null;
    let ss = 0;
    for (let i = lo; i < hi; i++) ss += this.buf[i] * this.buf[i];
    return { endSample, samples: hi - lo, rms: Math.sqrt(ss / (hi - lo)) };
  }
  reset(): void {
    this.buf = [];
  }
  stats() {
    return { samples: this.buf.length };
  }
}

/** A one-hot posterior on class k (test doubles only). */
export function oneHot(k: number): Float32Array {
  const p = new Float32Array(NUM_EMOTIONS);
  p[k] = 1;
  return p;
}

/** Pipeline models made of test doubles with a controllable delay; records every window they saw. */
export function fakeModels(opts: { speechDelayMs?: number; faceDelayMs?: number; speech?: boolean; face?: boolean } = {}) {
  const speechWindows: { endSample: number; samples: number; rms: number }[] = [];
  const faceWindows: AuWindow[] = [];
  const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const outcome = (probs: Float32Array, inferMs: number): InferOutcome => ({ probs, queueMs: 0, inferMs, batchSize: 1 });
  const models: PipelineModels = {
    speech: opts.speech === false ? null : {
      name: 'fake-speech',
      createStream: () => new RmsSpeechStream(),
      infer: async (w) => {
        speechWindows.push(w as { endSample: number; samples: number; rms: number });
        await delay(opts.speechDelayMs ?? 0);
        return outcome(oneHot(2), opts.speechDelayMs ?? 0);
      },
    },
    face: opts.face === false ? null : {
      name: 'fake-face',
      infer: async (w) => {
        faceWindows.push(w);
        await delay(opts.faceDelayMs ?? 0);
        return outcome(oneHot(4), opts.faceDelayMs ?? 0);
      },
    },
    fusion: null,
    video: null,
  };
  return { models, speechWindows, faceWindows };
}

/** Deterministic speech-like 16 kHz signal: a gliding harmonic tone with a syllable envelope plus a little noise. */
export function speechLikeSignal(seconds: number, seed = 1): Float32Array {
  let s = seed;
  const noise = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  return Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => {
    const t = i / 16000;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    let x = 0;
    for (let h = 1; h <= 6; h++) x += Math.sin(2 * Math.PI * f0 * h * t) / h;
    return 0.2 * env * x + 0.01 * noise();
  });
}
