import type { SpeechStream } from '../contracts/models.js';
import type { RemoteSpeechStream } from './pipeline-models.js';
import type { PipelineModels, VoicedSpeechStream } from './pipeline-models.js';

/** One speech window as the model gets it, with its speech ratio (voice activity) and what building it cost. */
export interface SpeechCut {
  /** The model's input for the window, or null (no audio yet, the stream broke). */
  window: unknown | null;
  /** Share of the window's voice-activity chunks with speech, or null when the stream does not tell. */
  speechRatio: number | null;
  /** Time spent building the window (in this thread, or waiting for the feature worker). */
  featureMs: number;
}

/** A window being cut: `settle` resolves once it is complete. */
export interface PendingSpeechCut {
  settle(): Promise<SpeechCut>;
}

/**
 * A session's speech front end (log-mel per 10 ms frame, speaker normaliser, window assembly). One interface whether
 * it runs on the event loop or in a feature worker; the pipeline picks one once, at its start.
 */
export interface SpeechFrontEnd {
  push(samples16k: Float32Array): void;
  /** Starts cutting the window of 16 kHz samples [startSample, endSample). */
  cut(startSample: number, endSample: number): PendingSpeechCut;
  close(): void;
}

/** Reports a front-end problem once per kind (`key`) and session. */
export type WarnOnce = (key: string, msg: string) => void;

/** The speech ratio a feature worker attached to a window it built (src/streaming/feature-worker.ts), else null. */
function windowSpeechRatio(window: unknown): number | null {
  const r = (window as { speechRatio?: unknown } | null)?.speechRatio;
  return typeof r === 'number' && Number.isFinite(r) ? r : null;
}

/** The model's own stream on the event loop: windows are built at once; a voiced stream's VAD answers asynchronously. */
class LocalSpeechFrontEnd implements SpeechFrontEnd {
  constructor(private readonly stream: SpeechStream<unknown> | VoicedSpeechStream, private readonly warnOnce: WarnOnce) {}

  push(samples16k: Float32Array): void {
    try {
      this.stream.push(samples16k);
    } catch (err) {
      this.warnOnce('speech-push', `speech stream rejected audio: ${String(err)}`);
    }
  }

  cut(startSample: number, endSample: number): PendingSpeechCut {
    const t0 = performance.now();
    let window: unknown | null = null;
    try {
      window = this.stream.window(endSample, endSample - startSample);
    } catch (err) {
      this.warnOnce('speech-window', `speech stream failed to build a window: ${String(err)}`);
    }
    const voice = 'speechRatio' in this.stream
      ? this.stream.speechRatio(startSample, endSample).catch((err: unknown) => {
        this.warnOnce('speech-vad', `voice activity detector failed: ${String(err)}`);
        return null;
      })
      : null;
    const featureMs = performance.now() - t0;
    return { settle: async () => ({ window, speechRatio: voice ? await voice : windowSpeechRatio(window), featureMs }) };
  }

  close(): void {
    this.stream.reset();
    this.stream.close?.();
  }
}

/** The same stream in a feature worker: windows (with their speech ratio) arrive asynchronously. */
class RemoteSpeechFrontEnd implements SpeechFrontEnd {
  constructor(private readonly stream: RemoteSpeechStream) {}

  push(samples16k: Float32Array): void {
    this.stream.push(samples16k);
  }

  cut(startSample: number, endSample: number): PendingSpeechCut {
    const t0 = performance.now();
    const arriving = this.stream.window(endSample, endSample - startSample);
    const requestMs = performance.now() - t0;
    return {
      settle: async () => {
        // The time until it arrived counts as feature time, as the in-thread build does.
        const t1 = performance.now();
        const window = await arriving;
        return { window, speechRatio: windowSpeechRatio(window), featureMs: requestMs + performance.now() - t1 };
      },
    };
  }

  close(): void {
    this.stream.close();
  }
}

/** The session's front end: in a feature worker when the server runs them, else on the event loop; null without a speech model. */
export function openSpeechFrontEnd(speech: PipelineModels['speech'], warnOnce: WarnOnce): SpeechFrontEnd | null {
  if (!speech) return null;
  if (speech.openRemoteStream) {
    return new RemoteSpeechFrontEnd(speech.openRemoteStream((msg) => warnOnce('speech-remote', `speech front end (feature worker): ${msg}`)));
  }
  return new LocalSpeechFrontEnd(speech.createStream(), warnOnce);
}
