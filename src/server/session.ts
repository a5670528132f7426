import type { Logger } from 'pino';
import { ProtocolError, ERROR_CATALOGUE, CLOSE_NORMAL, type ErrorCode } from '../protocol/v1/errors.js';
import { FrameKind, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, type MediaFrame } from '../protocol/v1/frames.js';
import { errorMessage, type EmotionResult, type EndMessage, type ServerMessage, type Welcome } from '../protocol/v1/messages.js';
import type { VideoFrameInput } from '../models/backend.js';
import { SessionPipeline } from '../streaming/session-pipeline.js';
import type { Metrics } from './metrics.js';
import type { SubscriberHub } from './subscribers.js';

/** Where a session's messages go: a WebSocket, a WebRTC data channel, anything. */
export interface SessionSink {
  send(message: ServerMessage, serialized?: string): void;
  close(code: number, reason: string): void;
}

export interface PcmInput {
  sampleRate: number;
  channels: number;
  ptsUs: number;
}

/**
 * One streaming session: owns the pipeline, reports bad input through the error catalogue, fans results out to the
 * sender and the subscribers. Transport-agnostic; WebSocket connections and the session API both drive it.
 */
export class StreamSession {
  private state: 'open' | 'ending' | 'closed' = 'open';
  private results = 0;

  constructor(
    readonly id: string,
    readonly welcome: Welcome,
    private readonly pipeline: SessionPipeline,
    private readonly sink: SessionSink,
    private readonly hub: SubscriberHub,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly onFinished: (s: StreamSession) => void,
  ) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** A subscriber asked for driver state (`/v1/subscribe?...&driverState=1`): results carry it from now on. */
  requestDriverState(): void {
    this.pipeline.requestDriverState();
  }

  /** Called by the pipeline for every result (wired by the session manager). */
  deliver(result: EmotionResult): void {
    if (this.state === 'closed') return;
    this.results++;
    this.metrics.results.inc();
    const l = result.latency;
    this.metrics.stageLatency.observe({ stage: 'queue' }, l.queueMs);
    if (l.speechMs !== null) this.metrics.stageLatency.observe({ stage: 'speech' }, l.speechMs);
    if (l.faceMs !== null) this.metrics.stageLatency.observe({ stage: 'face' }, l.faceMs);
    this.metrics.stageLatency.observe({ stage: 'fuse' }, l.fuseMs);
    this.metrics.stageLatency.observe({ stage: 'total' }, l.totalMs);
    const text = JSON.stringify(result);
    this.sink.send(result, text);
    this.hub.broadcast(this.id, text);
  }

  /** Reports a problem to the client; closes the session when the code is fatal. Returns false for convenience. */
  fail(err: unknown, frame?: { streamId: number; seq: number }): false {
    let pe: ProtocolError;
    if (err instanceof ProtocolError) pe = err;
    else {
      this.log.error({ err, sessionId: this.id }, 'unexpected error while handling input');
      pe = new ProtocolError('EMO_ERR_INTERNAL', 'internal error while handling this input');
    }
    this.metrics.errors.inc({ code: pe.code });
    if (this.state === 'closed') return false;
    this.sink.send(errorMessage(pe.code, pe.message, frame ? { streamId: frame.streamId, seq: frame.seq } : {}));
    if (pe.fatal) this.abort(pe.code, pe.message);
    return false;
  }

  private guard<T>(fn: () => T, frame?: { streamId: number; seq: number }): boolean {
    if (this.state !== 'open') return this.fail(new ProtocolError('EMO_ERR_ENDED'), frame);
    try {
      fn();
      return true;
    } catch (err) {
      return this.fail(err, frame);
    }
  }

  pushFrame(frame: MediaFrame): boolean {
    const ok = this.guard(() => {
      switch (frame.kind) {
        case FrameKind.PcmS16:
        case FrameKind.PcmF32:
          this.pipeline.pushAudio({ ptsUs: frame.ptsUs, sampleRate: frame.sampleRate, channels: frame.channels, interleaved: frame.samples });
          break;
        case FrameKind.Au:
          this.pipeline.pushAu(frame.ptsUs, frame.aus);
          break;
        default:
          this.pipeline.pushVideo({ format: frame.format, width: frame.width, height: frame.height, payload: frame.payload, ptsUs: frame.ptsUs });
      }
    }, frame);
    if (ok) this.metrics.frames.inc({ kind: FrameKind[frame.kind] });
    return ok;
  }

  pushPcm(samples: Int16Array | Float32Array, input: PcmInput): boolean {
    return this.guard(() => {
      if (input.sampleRate < MIN_SAMPLE_RATE || input.sampleRate > MAX_SAMPLE_RATE || !Number.isInteger(input.sampleRate)) {
        throw new ProtocolError('EMO_ERR_SAMPLE_RATE', `sample rate ${input.sampleRate} Hz outside ${MIN_SAMPLE_RATE}-${MAX_SAMPLE_RATE} Hz`);
      }
      if (input.channels !== 1 && input.channels !== 2) throw new ProtocolError('EMO_ERR_SAMPLE_RATE', `${input.channels} channels; mono or stereo only`);
      if (samples.length % input.channels !== 0) throw new ProtocolError('EMO_ERR_FRAME_TRUNCATED', 'sample count is not a multiple of the channel count');
      const interleaved = samples instanceof Float32Array ? samples : Float32Array.from(samples, (s) => s / 32768);
      this.pipeline.pushAudio({ ptsUs: input.ptsUs, sampleRate: input.sampleRate, channels: input.channels, interleaved });
      this.metrics.frames.inc({ kind: 'pcm' });
    });
  }

  pushAu(aus: Float32Array, ptsUs: number): boolean {
    return this.guard(() => {
      this.pipeline.pushAu(ptsUs, aus);
      this.metrics.frames.inc({ kind: 'Au' });
    });
  }

  pushVideo(frame: VideoFrameInput): boolean {
    return this.guard(() => {
      this.pipeline.pushVideo(frame);
      this.metrics.frames.inc({ kind: `video_${frame.format}` });
    });
  }

  /** Final result, `end` to everyone, close with 1000 (or `closeCode`, e.g. 1001 on shutdown). */
  async end(reason: EndMessage['reason'] = 'client-end', closeCode = CLOSE_NORMAL): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'ending';
    try {
      await this.pipeline.end();
    } catch (err) {
      this.log.error({ err, sessionId: this.id }, 'final flush failed');
    }
    if (this.state !== 'ending') return;
    const end = this.endMessage(reason);
    this.sink.send(end);
    this.finish(end, closeCode, reason === 'shutdown' ? 'server shutting down' : 'end');
  }

  /** The transport is gone (or a fatal error): no final result; subscribers hear why. */
  abort(code: ErrorCode = 'EMO_ERR_SESSION_LOST', message?: string): void {
    if (this.state === 'closed') return;
    this.pipeline.close();
    const reason: EndMessage['reason'] = code === 'EMO_ERR_SESSION_LOST' ? 'client-gone' : 'error';
    const end = this.endMessage(reason);
    this.finish(end, ERROR_CATALOGUE[code].closeCode, message ?? ERROR_CATALOGUE[code].text, code);
  }

  private endMessage(reason: EndMessage['reason']): EndMessage {
    return { type: 'end', sessionId: this.id, reason, results: this.results, droppedWindows: this.pipeline.stats.droppedWindows };
  }

  private finish(end: EndMessage, closeCode: number, reason: string, code?: ErrorCode): void {
    this.state = 'closed';
    this.pipeline.close();
    this.hub.closeSession(this.id, end, code);
    this.sink.close(closeCode, reason);
    this.onFinished(this);
  }
}
