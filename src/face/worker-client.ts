import { Worker } from 'node:worker_threads';
import type { VideoFrameInput } from '../models/backend.js';
import type { FaceConfig } from './config.js';
import type { EngineResult } from './engine.js';
import { isErrorCode, ProtocolError, type ErrorCode } from '../protocol/v1/errors.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

interface Pending {
  resolve: (r: EngineResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Main-thread side of the face worker: a bounded request queue (EMO_ERR_VIDEO_BUSY beyond maxPendingFrames), a
 * per-frame timeout, and a restart of the worker when it dies or hangs, so a poisoned frame costs one result, not
 * the service.
 */
export class FaceWorkerClient {
  private worker: Worker | null = null;
  private ready: Promise<{ backend: string; loadMs: number }> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private restarts = 0;
  private lastError: string | null = null;
  private disposed = false;
  /** Streams pinned to this worker (the analyzer balances new streams on it). */
  openStreams = 0;
  private inFlight = 0;

  constructor(
    private readonly config: FaceConfig,
    private readonly modelDir: string,
  ) {}

  /** Starts the worker (idempotent); rejects with the worker's own reason when the models cannot load. */
  start(): Promise<{ backend: string; loadMs: number }> {
    if (this.ready) return this.ready;
    const init: WorkerInit = { config: this.config, modelDir: this.modelDir };
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: init });
    // The worker must not keep a CLI process alive after its work is done.
    worker.unref();
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (msg: FromWorker): void => {
        if (msg.type === 'ready') resolve({ backend: msg.backend, loadMs: msg.loadMs });
        else if (msg.type === 'init-error') {
          this.lastError = `face models failed to load from ${this.modelDir}: ${msg.message}`;
          reject(new Error(this.lastError));
        } else this.settle(msg);
      };
      worker.on('message', onMessage);
      worker.on('error', (err) => {
        this.lastError = `face worker crashed: ${err.message}`;
        reject(err);
        this.failAll('EMO_ERR_VIDEO_INTERNAL', this.lastError);
      });
      worker.on('exit', (code) => {
        if (this.worker !== worker || this.disposed) return; // already replaced (timeout) or shut down on purpose
        this.worker = null;
        this.ready = null;
        this.restarts++;
        this.lastError ??= `face worker exited with code ${code}`;
        reject(new Error(this.lastError));
        this.failAll('EMO_ERR_VIDEO_INTERNAL', `face worker exited with code ${code}`);
      });
    });
    return this.ready;
  }

  private settle(msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'error') return;
    const p = this.pending.get(msg.id);
    if (!p) return; // timed out earlier
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.type === 'result') p.resolve(msg.result);
    else p.reject(new ProtocolError(isErrorCode(msg.code) ? msg.code : 'EMO_ERR_VIDEO_INTERNAL', msg.message));
  }

  private failAll(code: ErrorCode, message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ProtocolError(code, message));
      this.pending.delete(id);
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
    const worker = this.worker;
    if (!worker) throw new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', this.lastError ?? 'face worker is not running');
    const id = this.nextId++;
    // Copy: the payload may be a view into a socket buffer that the transport reuses; the copy is transferred.
    // (Buffer.prototype.slice is a view, so copy explicitly.)
    const payload = new Uint8Array(frame.payload.byteLength);
    payload.set(frame.payload);
    const msg: ToWorker = { type: 'analyze', id, streamId, format: frame.format, width: frame.width, height: frame.height, ptsUs: frame.ptsUs, payload };
    return new Promise<EngineResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError('EMO_ERR_VIDEO_INTERNAL', `face worker did not answer within ${this.config.frameTimeoutMs} ms; restarting it`));
        // A hung worker is replaced at once (the next frame starts a fresh one); its other frames fail now.
        if (this.worker === worker) {
          this.worker = null;
          this.ready = null;
          this.restarts++;
          this.failAll('EMO_ERR_VIDEO_INTERNAL', 'face worker restarted after a timeout');
        }
        void worker.terminate();
      }, this.config.frameTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage(msg, [payload.buffer as ArrayBuffer]);
    });
  }

  send(msg: ToWorker): void {
    this.worker?.postMessage(msg);
  }

  stats(): { pending: number; restarts: number; running: boolean; lastError: string | null } {
    return { pending: this.inFlight, restarts: this.restarts, running: this.worker !== null, lastError: this.lastError };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.failAll('EMO_ERR_VIDEO_UNAVAILABLE', 'face pipeline is disposed');
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) await w.terminate();
  }
}
