import type { VideoFrameInput } from '../contracts/models.js';
import { threadEndpoint } from '../runtime/endpoint.js';
import { startTsWorker } from '../runtime/ts-worker.js';
import { ChannelError, WorkerChannel } from '../runtime/worker-channel.js';
import type { FaceConfig } from './config.js';
import type { EngineResult } from './engine.js';
import { isErrorCode, ProtocolError } from '../protocol/v1/errors.js';
import type { ToWorker, WorkerInit, WorkerReady } from './worker-protocol.js';

const WORKER_URL = new URL('./worker.ts', import.meta.url);

/**
 * Main-thread side of the face worker: a bounded request queue (EMO_ERR_VIDEO_BUSY beyond maxPendingFrames), a
 * per-frame timeout, and a restart of the worker when it dies or hangs, so a poisoned frame costs one result, not
 * the service. The queue, timeout and restart are the WorkerChannel's (src/runtime/worker-channel.ts).
 */
export class FaceWorkerClient {
  private readonly channel: WorkerChannel<WorkerReady>;
  private lastError: string | null = null;
  private disposed = false;
  /** Streams pinned to this worker (the analyzer balances new streams on it). */
  openStreams = 0;
  private inFlight = 0;

  constructor(
    private readonly config: FaceConfig,
    private readonly modelDir: string,
  ) {
    const init: WorkerInit = { config, modelDir };
    this.channel = new WorkerChannel<WorkerReady>({
      name: 'face worker',
      maxPending: config.maxPendingFrames,
      timeoutMs: config.frameTimeoutMs,
      // A hung worker is replaced (the next frame starts a fresh one); its other frames fail at once.
      onTimeout: 'restart',
      respawn: 'lazy',
      // The worker must not keep a CLI process alive after its work is done.
      unref: true,
      spawn: () => threadEndpoint(startTsWorker(WORKER_URL, { workerData: init })),
      onExit: (err) => { this.lastError = `face worker ${err.message}`; },
    });
  }

  /** Starts the worker (idempotent); rejects with the worker's own reason when the models cannot load. */
  async start(): Promise<{ backend: string; loadMs: number }> {
    try {
      const ready = await this.channel.start();
      return { backend: ready.backend, loadMs: ready.loadMs };
    } catch (err) {
      const e = err as ChannelError;
      this.lastError = e.kind === 'start' && e.remote ? `face models failed to load from ${this.modelDir}: ${e.remote.message}` : `face worker could not start: ${e.message}`;
      throw new Error(this.lastError, { cause: err });
    }
  }

  async analyze(streamId: string, frame: VideoFrameInput): Promise<EngineResult> {
    if (this.disposed) throw new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', 'face pipeline is disposed');
    if (this.inFlight >= this.config.maxPendingFrames) {
      throw new ProtocolError('EMO_ERR_VIDEO_BUSY', `face worker has ${this.inFlight} frames waiting (limit ${this.config.maxPendingFrames}); frame dropped`);
    }
    if (!(frame.payload instanceof Uint8Array)) throw new ProtocolError('EMO_ERR_VIDEO_FORMAT', 'frame payload must be a Uint8Array');
    // Cheap checks here so an oversized payload is never copied to the worker.
    if (frame.payload.byteLength > this.config.maxFrameBytes) {
      throw new ProtocolError('EMO_ERR_VIDEO_TOO_LARGE', `frame of ${frame.payload.byteLength} bytes exceeds the limit of ${this.config.maxFrameBytes} bytes`);
    }
    // Counted from here (synchronously) so frames that wait for a (re)starting worker count against the bound too.
    this.inFlight++;
    try {
      return await this.dispatch(streamId, frame);
    } finally {
      this.inFlight--;
    }
  }

  private async dispatch(streamId: string, frame: VideoFrameInput): Promise<EngineResult> {
    await this.start().catch((err: Error) => {
      throw new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', err.message);
    });
    // Copy: the payload may be a view into a socket buffer that the transport reuses; the copy is transferred.
    // (Buffer.prototype.slice is a view, so copy explicitly.)
    const payload = new Uint8Array(frame.payload.byteLength);
    payload.set(frame.payload);
    const msg: ToWorker = { type: 'analyze', streamId, format: frame.format, width: frame.width, height: frame.height, ptsUs: frame.ptsUs, payload };
    try {
      return await this.channel.request<EngineResult>(msg, { transfer: [payload.buffer as ArrayBuffer] });
    } catch (err) {
      throw this.frameError(err);
    }
  }

  /** The worker's own ProtocolError as it was thrown there; the channel's failures with the catalogue's codes. */
  private frameError(err: unknown): ProtocolError {
    if (!(err instanceof ChannelError)) return new ProtocolError('EMO_ERR_VIDEO_INTERNAL', String(err));
    if (err.kind === 'remote') return new ProtocolError(isErrorCode(err.remote?.details.code) ? err.remote.details.code : 'EMO_ERR_VIDEO_INTERNAL', err.message);
    if (err.kind === 'full') return new ProtocolError('EMO_ERR_VIDEO_BUSY', err.message);
    if (err.kind === 'closed') return new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', 'face pipeline is disposed');
    if (err.kind === 'timeout') return new ProtocolError('EMO_ERR_VIDEO_INTERNAL', `${err.message}; restarting it`);
    return new ProtocolError('EMO_ERR_VIDEO_INTERNAL', err.message);
  }

  send(msg: ToWorker): void {
    this.channel.notify(msg);
  }

  stats(): { pending: number; restarts: number; running: boolean; lastError: string | null } {
    return { pending: this.inFlight, restarts: this.channel.crashes, running: this.channel.alive, lastError: this.lastError };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.channel.close();
  }
}
