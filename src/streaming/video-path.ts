import { nonFatalCode, ProtocolError, type ErrorCode } from '../protocol/v1/errors.js';
import type { FaceObservation, VideoAnalyzer, VideoAnalyzerStream, VideoFrameInput } from '../contracts/models.js';
import { FacePresence } from './face-tracks.js';
import { VideoGate } from './video-gate.js';

/**
 * The catalogue code for a video analyzer failure: the analyzer's own `code` (a ProtocolError's, in src/face) when
 * the catalogue has it as a non-fatal code, else EMO_ERR_VIDEO_INTERNAL (an analyzer failure the protocol has no
 * specific code for). The one bridge from analyzer errors to the protocol's catalogue.
 */
export function videoErrorCode(err: unknown): ErrorCode {
  // Only non-fatal codes: one bad frame must never close the session.
  return nonFatalCode(err, 'EMO_ERR_VIDEO_INTERNAL');
}

export interface VideoPathEvents {
  /** One analysed frame: its faces, largest first, and the analysis time. */
  onFaces(ptsUs: number, faces: FaceObservation[], faceMs: number): void;
  onSkipped?(count: number): void;
  /** A frame the analyzer refused, at most once per code per second. */
  onError(err: ProtocolError): void;
}

/**
 * A session's video analysis: the frame-rate gate in front of one analyzer stream, one frame in analysis at a time
 * (while it runs only the newest frame waits), and face presence over time. Results come back through `events`.
 */
export class VideoPath {
  private readonly gate: VideoGate;
  private stream: VideoAnalyzerStream | null;
  private idleWaiters: (() => void)[] = [];
  private readonly lastErrorAt = new Map<ErrorCode, number>();
  readonly presence = new FacePresence();

  constructor(analyzer: VideoAnalyzer, analysisFps: number, private readonly events: VideoPathEvents) {
    this.stream = analyzer.createStream();
    this.gate = new VideoGate(analysisFps);
  }

  offer(frame: VideoFrameInput): void {
    const skipped = this.gate.offer(frame);
    if (skipped > 0) this.events.onSkipped?.(skipped);
    this.pump();
  }

  private pump(): void {
    if (!this.stream) return;
    const frame = this.gate.next();
    if (!frame) return;
    this.stream.analyze(frame).then((analysis) => {
      if (!this.stream) return;
      const faces = [...analysis.faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
      this.presence.frame(frame.ptsUs, faces.length > 0);
      this.events.onFaces(frame.ptsUs, faces, analysis.faceMs);
    }, (err: unknown) => this.failed(frame, err)).finally(() => {
      this.gate.done();
      this.pump();
      if (this.gate.idle) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private failed(frame: VideoFrameInput, err: unknown): void {
    if (!this.stream) return;
    const known = videoErrorCode(err);
    // A frame the analyzer had no room for is a skipped frame (counted) and the client still hears why, throttled.
    if (known === 'EMO_ERR_VIDEO_BUSY') this.events.onSkipped?.(1);
    // A camera that sends undecodable frames at 30 fps must not flood the client: one message per code per second.
    const now = performance.now();
    if ((this.lastErrorAt.get(known) ?? -Infinity) > now - 1000) return;
    this.lastErrorAt.set(known, now);
    this.events.onError(new ProtocolError(known, `video frame at ${frame.ptsUs} us: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Resolves once no frame is in analysis or waiting, or after `timeoutMs` (a stuck analyzer must not hold `end`). */
  idle(timeoutMs: number): Promise<void> {
    if (this.gate.idle) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.stream?.dispose();
    this.stream = null;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
