import type { VideoFrameInput } from '../contracts/models.js';
import type { ServerMessage } from '../protocol/v1/messages.js';

/**
 * What this module needs from a session, as src/server/session-api.ts provides it (docs/architecture.md, extension
 * point 2). Declared here structurally so the WebRTC ingest and its tests depend on the contract, not the server.
 */
export interface IngestSink {
  send(msg: ServerMessage): void;
  close(code: number, reason: string): void;
}

export interface IngestHandle {
  readonly id: string;
  readonly welcome: unknown;
  pushPcm(samples: Int16Array | Float32Array, format: { sampleRate: number; channels: 1 | 2; ptsUs: number }): boolean;
  pushVideo(frame: VideoFrameInput): boolean;
  /** Final result, then sink.close(1000, 'end'). */
  end(): Promise<void>;
  /** Transport lost: subscribers hear EMO_ERR_SESSION_LOST. */
  abort(): void;
}

export interface IngestSessions {
  open(opts: { client: string; transport?: string; sink: IngestSink }): IngestHandle;
}

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}
