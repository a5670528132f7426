import type { Logger } from 'pino';
import { ProtocolError, ERROR_CATALOGUE, CLOSE_NORMAL, closeCodeOf, type ErrorCode } from '../protocol/v1/errors.js';
import { checkAuVector, checkFloatAudio, FrameKind, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, type MediaFrame } from '../protocol/v1/frames.js';
import { errorMessage, type AlertMessage, type EmotionResult, type EndMessage, type ServerMessage, type Welcome } from '../protocol/v1/messages.js';
import type { VideoFrameInput } from '../models/backend.js';
import { SessionPipeline } from '../streaming/session-pipeline.js';
import type { MediaStreamKind } from '../streaming/pts-guard.js';
import type { MediaAdmission } from './media-admission.js';
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

/** Duration of `samples` interleaved values at `channels` x `sampleRate`, in µs. */
function audioDurationUs(samples: number, channels: number, sampleRate: number): number {
  return (samples / channels / sampleRate) * 1e6;
}

/**
 * One streaming session: owns the pipeline, reports bad input through the error catalogue, fans results out to the
 * sender and the subscribers. Transport-agnostic; WebSocket connections and the session API both drive it.
 */
export class StreamSession {
  private state: 'open' | 'ending' | 'closed' = 'open';
  private results = 0;
  /** Why it ended, once it has. */
  endReason: EndMessage['reason'] | null = null;

  constructor(
    readonly id: string,
    readonly welcome: Welcome,
    private readonly pipeline: SessionPipeline,
    private readonly sink: SessionSink,
    private readonly hub: SubscriberHub,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly onFinished: (s: StreamSession) => void,
    /** Timestamp guard, rate limit and idle clock for every frame (src/server/media-admission.ts). */
    readonly admission: MediaAdmission,
  ) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** A subscriber asked for driver state (`/v1/subscribe?...&driverState=1`): results carry it from now on. */
  requestDriverState(): void {
    this.pipeline.requestDriverState();
  }

  /** Called by the pipeline for every result (wired by the session manager); false when the session was closed. */
  deliver(result: EmotionResult): boolean {
    if (this.state === 'closed') return false;
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
    return true;
  }

  /** An alert fired on this session's latest result: to the client and the subscribers. False once closed. */
  deliverAlert(alert: AlertMessage): boolean {
    if (this.state === 'closed') return false;
    const text = JSON.stringify(alert);
    this.sink.send(alert, text);
    this.hub.broadcast(this.id, text);
    return true;
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

  /**
   * One media item: admitted (timestamp, rate), handed to the pipeline by `push` with its exact integer pts, then
   * committed (clock, idle timer). Any refusal goes to the client through `fail`; false when the item was refused.
   */
  private media(stream: MediaStreamKind, ptsUs: number, durationUs: number, push: (ptsUs: number) => void, frame?: { streamId: number; seq: number }): boolean {
    if (this.state !== 'open') return this.fail(new ProtocolError('EMO_ERR_ENDED'), frame);
    try {
      const pts = this.admission.admit(stream, ptsUs, durationUs);
      if (pts === null) return false;
      push(pts);
      this.admission.commit(stream, pts, durationUs);
      return true;
    } catch (err) {
      return this.fail(err, frame);
    }
  }

  pushFrame(frame: MediaFrame): boolean {
    let ok: boolean;
    switch (frame.kind) {
      case FrameKind.PcmS16:
      case FrameKind.PcmF32:
        ok = this.media('audio', frame.ptsUs, audioDurationUs(frame.samples.length, frame.channels, frame.sampleRate), (ptsUs) => {
          this.pipeline.pushAudio({ ptsUs, sampleRate: frame.sampleRate, channels: frame.channels, interleaved: frame.samples });
        }, frame);
        break;
      case FrameKind.Au:
        ok = this.media('au', frame.ptsUs, 0, (ptsUs) => this.pipeline.pushAu(ptsUs, frame.aus), frame);
        break;
      default:
        ok = this.media('video', frame.ptsUs, 0, (ptsUs) => {
          this.pipeline.pushVideo({ format: frame.format, width: frame.width, height: frame.height, payload: frame.payload, ptsUs });
        }, frame);
    }
    if (ok) this.metrics.frames.inc({ kind: FrameKind[frame.kind] });
    return ok;
  }

  pushPcm(samples: Int16Array | Float32Array, input: PcmInput): boolean {
    if (input.sampleRate < MIN_SAMPLE_RATE || input.sampleRate > MAX_SAMPLE_RATE || !Number.isInteger(input.sampleRate)) {
      return this.fail(new ProtocolError('EMO_ERR_SAMPLE_RATE', `sample rate ${input.sampleRate} Hz outside ${MIN_SAMPLE_RATE}-${MAX_SAMPLE_RATE} Hz`));
    }
    if (input.channels !== 1 && input.channels !== 2) return this.fail(new ProtocolError('EMO_ERR_SAMPLE_RATE', `${input.channels} channels; mono or stereo only`));
    if (samples.length % input.channels !== 0) return this.fail(new ProtocolError('EMO_ERR_FRAME_TRUNCATED', 'sample count is not a multiple of the channel count'));
    return this.media('audio', input.ptsUs, audioDurationUs(samples.length, input.channels, input.sampleRate), (ptsUs) => {
      if (samples instanceof Float32Array) checkFloatAudio(samples);
      const interleaved = samples instanceof Float32Array ? samples : Float32Array.from(samples, (s) => s / 32768);
      this.pipeline.pushAudio({ ptsUs, sampleRate: input.sampleRate, channels: input.channels, interleaved });
      this.metrics.frames.inc({ kind: 'pcm' });
    });
  }

  pushAu(aus: Float32Array, ptsUs: number): boolean {
    return this.media('au', ptsUs, 0, (pts) => {
      checkAuVector(aus);
      this.pipeline.pushAu(pts, aus);
      this.metrics.frames.inc({ kind: 'Au' });
    });
  }

  pushVideo(frame: VideoFrameInput): boolean {
    return this.media('video', frame.ptsUs, 0, (ptsUs) => {
      this.pipeline.pushVideo({ ...frame, ptsUs });
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
    this.finish(end, closeCodeOf(code), message ?? ERROR_CATALOGUE[code].text, code);
  }

  private endMessage(reason: EndMessage['reason']): EndMessage {
    return { type: 'end', sessionId: this.id, reason, results: this.results, droppedWindows: this.pipeline.stats.droppedWindows };
  }

  private finish(end: EndMessage, closeCode: number, reason: string, code?: ErrorCode): void {
    this.state = 'closed';
    this.endReason = end.reason;
    this.pipeline.close();
    this.hub.closeSession(this.id, end, code);
    this.sink.close(closeCode, reason);
    this.onFinished(this);
  }
}
