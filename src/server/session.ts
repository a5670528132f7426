import type { Logger } from 'pino';
import { ProtocolError, ERROR_CATALOGUE, CLOSE_NORMAL, closeCodeOf, type ErrorCode } from '../protocol/v1/errors.js';
import { auFrame, FRAME_VERSION, FrameKind, frameKindLabel, pcmFrame, videoFrameKind, type AudioFrame, type MediaFrame } from '../protocol/v1/frames.js';
import { errorMessage, type AlertMessage, type EmotionResult, type EndMessage, type ServerMessage, type Welcome } from '../protocol/v1/messages.js';
import type { VideoFrameInput } from '../contracts/models.js';
import type { SessionPipeline } from '../streaming/session-pipeline.js';
import type { PipelineEvents } from '../streaming/pipeline-options.js';
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

/** Duration of an audio frame, in µs. */
function audioDurationUs(frame: AudioFrame): number {
  return (frame.samples.length / frame.channels / frame.sampleRate) * 1e6;
}

/**
 * One streaming session: owns the pipeline, reports bad input through the error catalogue, fans results out to the
 * sender and the subscribers. Transport-agnostic; WebSocket connections and the session API both drive it.
 */
/** What a session is built with (src/server/session-api.ts). */
export interface StreamSessionDeps {
  sink: SessionSink;
  hub: SubscriberHub;
  metrics: Metrics;
  log: Logger;
  /** Timestamp guard, rate limit and idle clock for every frame (src/server/media-admission.ts). */
  admission: MediaAdmission;
  /** Builds the session's pipeline, given where its results and per-frame errors go (this session). */
  createPipeline: (events: PipelineEvents) => SessionPipeline;
  /** After a result reached the client and the subscribers: history, alerts. */
  onDelivered?: (result: EmotionResult, session: StreamSession) => void;
  onFinished: (s: StreamSession) => void;
}

/** Where a frame failed, echoed in the error message (frames from the WebSocket codec; the session API has none). */
type FrameRef = { streamId: number; seq: number };

export class StreamSession {
  private state: 'open' | 'ending' | 'closed' = 'open';
  private results = 0;
  /** Why it ended, once it has. */
  endReason: EndMessage['reason'] | null = null;
  private readonly pipeline: SessionPipeline;
  private readonly sink: SessionSink;
  private readonly hub: SubscriberHub;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  readonly admission: MediaAdmission;

  constructor(readonly id: string, readonly welcome: Welcome, private readonly deps: StreamSessionDeps) {
    this.sink = deps.sink;
    this.hub = deps.hub;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.admission = deps.admission;
    this.pipeline = deps.createPipeline({
      onResult: (r) => {
        if (this.deliver(r)) deps.onDelivered?.(r, this);
      },
      onError: (e) => this.fail(e),
    });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** A subscriber asked for driver state (`/v1/subscribe?...&driverState=1`): results carry it from now on. */
  requestDriverState(): void {
    this.pipeline.requestDriverState();
  }

  /** Called for every result of the pipeline; false when the session was closed. */
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
   * One media frame, already validated by the protocol layer (src/protocol/v1/frames.ts): admitted (timestamp, rate),
   * handed to the pipeline with its exact integer pts, then committed (clock, idle timer). Any refusal goes to the
   * client through `fail`; false when the frame was refused.
   */
  private media(frame: MediaFrame, ref: FrameRef | undefined): boolean {
    if (this.state !== 'open') return this.fail(new ProtocolError('EMO_ERR_ENDED'), ref);
    const stream: MediaStreamKind = frame.kind === FrameKind.Au ? 'au' : frame.kind === FrameKind.PcmS16 || frame.kind === FrameKind.PcmF32 ? 'audio' : 'video';
    const durationUs = stream === 'audio' ? audioDurationUs(frame as AudioFrame) : 0;
    try {
      const ptsUs = this.admission.admit(stream, frame.ptsUs, durationUs);
      if (ptsUs === null) return false;
      switch (frame.kind) {
        case FrameKind.PcmS16:
        case FrameKind.PcmF32:
          this.pipeline.pushAudio({ ptsUs, sampleRate: frame.sampleRate, channels: frame.channels, interleaved: frame.samples });
          break;
        case FrameKind.Au:
          this.pipeline.pushAu(ptsUs, frame.aus);
          break;
        default:
          this.pipeline.pushVideo({ format: frame.format, width: frame.width, height: frame.height, payload: frame.payload, ptsUs });
      }
      this.admission.commit(stream, ptsUs, durationUs);
    } catch (err) {
      return this.fail(err, ref);
    }
    this.metrics.frames.inc({ kind: frameKindLabel(frame.kind) });
    return true;
  }

  /** A frame decoded by the WebSocket codec. */
  pushFrame(frame: MediaFrame): boolean {
    return this.media(frame, frame);
  }

  /** The session API (WebRTC, plugins): the same checks as the codec, then the same path as a WebSocket frame. */
  pushPcm(samples: Int16Array | Float32Array, input: PcmInput): boolean {
    let frame: MediaFrame;
    try {
      frame = pcmFrame(samples, input.sampleRate, input.channels, input.ptsUs);
    } catch (err) {
      return this.fail(err);
    }
    return this.media(frame, undefined);
  }

  pushAu(aus: Float32Array, ptsUs: number): boolean {
    let frame: MediaFrame;
    try {
      frame = auFrame(aus, ptsUs);
    } catch (err) {
      return this.fail(err);
    }
    return this.media(frame, undefined);
  }

  pushVideo(v: VideoFrameInput): boolean {
    return this.media({ version: FRAME_VERSION, kind: videoFrameKind(v.format), streamId: 0, seq: 0, ...v }, undefined);
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
    this.deps.onFinished(this);
  }
}
