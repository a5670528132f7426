import type { Transferable } from 'node:worker_threads';
import type { ChannelEndpoint, FromWorkerEnvelope, ToWorkerEnvelope, WireError } from './endpoint.js';

/** Why a request failed without an answer from the worker's handler ('remote': the handler threw). */
export type ChannelErrorKind = 'full' | 'timeout' | 'exited' | 'start' | 'closed' | 'remote';

export class ChannelError extends Error {
  constructor(
    readonly kind: ChannelErrorKind,
    message: string,
    /** For 'remote' and 'start': the worker's own error text and its plain fields (code, transient, ...). */
    readonly remote: WireError | null = null,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface WorkerChannelOptions<Ready> {
  /** Names the worker in every error and log line ("ONNX worker 0"). */
  name: string;
  /** Starts the other side (a thread: `threadEndpoint(startTsWorker(url))`; a process: `processEndpoint(fork(...))`). */
  spawn: () => ChannelEndpoint;
  /** Requests in flight or waiting for a start, at most; one more is refused with a ChannelError 'full'. */
  maxPending: number;
  /** Default per-request timeout in ms (0: none). */
  timeoutMs?: number;
  /** 'restart': a request that times out also kills the worker (a hung thread is replaced). Default 'reject'. */
  onTimeout?: 'reject' | 'restart';
  /**
   * After the worker dies: 'eager' starts a replacement at once (then with backoff), 'lazy' starts one at the next
   * request (after the backoff), 'never' leaves the channel down (every later request fails). Default 'eager'.
   */
  respawn?: 'eager' | 'lazy' | 'never';
  /** Backoff after consecutive failures: 0 ms for the first, then base, 2 x base, ... up to max. Defaults 100 ms / 10 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** The worker does not keep the process alive (CLI commands). */
  unref?: boolean;
  /**
   * Called when a worker is up, before requests that waited for it are sent: requests made here (e.g. reloading
   * models into a replacement) go first.
   */
  onReady?: (value: Ready, startCount: number) => void;
  /** The worker died, or a replacement failed to start (not on close, not the first start); `respawnInMs` null: none is coming. */
  onExit?: (err: Error, respawnInMs: number | null) => void;
  /** Unsolicited messages (`ctx.emit` in the worker). */
  onEvent?: (event: unknown) => void;
}

export interface RequestOptions {
  transfer?: readonly Transferable[];
  /** Overrides the channel's timeout for this request (0: none). */
  timeoutMs?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
  /** Set while the request waits for a worker to start. */
  queued: { body: unknown; transfer?: readonly Transferable[] } | null;
}

type State = 'idle' | 'starting' | 'ready' | 'down' | 'closed';

/**
 * One request/response channel to one worker (thread or process): request ids, per-request timeouts, transfer
 * lists, a bounded pending map, every pending request failed with a clear error when the worker dies, and respawn
 * with a counter and backoff. The worker side is `serve()` (src/runtime/serve.ts).
 */
export class WorkerChannel<Ready = unknown> {
  private endpoint: ChannelEndpoint | null = null;
  private state: State = 'idle';
  private readonly pending = new Map<number, Pending>();
  private nextRid = 1;
  private startPromise: Promise<Ready> | null = null;
  private respawnTimer: NodeJS.Timeout | null = null;
  private downSinceMs = 0;
  private everReady = false;
  private rejectStart: ((err: Error) => void) | null = null;
  /** Workers started, the first included. */
  starts = 0;
  /** Workers that died (crash, exit, kill after a timeout), not counting close. */
  crashes = 0;
  /** Failures since the last answered request: drives the backoff. */
  private consecutiveFailures = 0;

  constructor(private readonly opts: WorkerChannelOptions<Ready>) {
    if (!(opts.maxPending >= 1)) throw new Error(`${opts.name}: maxPending must be >= 1, got ${opts.maxPending}`);
  }

  get name(): string { return this.opts.name; }
  /** Requests in flight or waiting for a start. */
  get pendingCount(): number { return this.pending.size; }
  get alive(): boolean { return this.state === 'ready'; }
  get closed(): boolean { return this.state === 'closed'; }
  /** Replacements started after a death. */
  get respawns(): number { return Math.max(0, this.starts - 1); }

  /** Starts the worker if it is not running (idempotent); resolves with its init value. */
  start(): Promise<Ready> {
    if (this.state === 'closed') return Promise.reject(new ChannelError('closed', `${this.opts.name} is closed`));
    if (this.startPromise && (this.state === 'starting' || this.state === 'ready')) return this.startPromise;
    if (this.state === 'down' && this.opts.respawn === 'never') return Promise.reject(new ChannelError('exited', `${this.opts.name} has stopped and is not restarted`));
    const wait = this.state === 'down' ? Math.max(0, this.downSinceMs + this.backoffMs() - Date.now()) : 0;
    this.state = 'starting';
    this.startPromise = (wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve()).then(() => this.spawn());
    return this.startPromise;
  }

  private backoffMs(): number {
    const n = this.consecutiveFailures;
    if (n <= 1) return 0;
    return Math.min(this.opts.backoffMaxMs ?? 10_000, (this.opts.backoffBaseMs ?? 100) * 2 ** (n - 2));
  }

  private spawn(): Promise<Ready> {
    if (this.state !== 'starting') return Promise.reject(new ChannelError('closed', `${this.opts.name} is closed`));
    let ep: ChannelEndpoint;
    try {
      ep = this.opts.spawn();
    } catch (err) {
      this.consecutiveFailures++;
      this.down(new ChannelError('start', `${this.opts.name} could not start: ${(err as Error).message}`), false);
      throw err;
    }
    this.endpoint = ep;
    this.starts++;
    if (this.opts.unref) ep.unref();
    return new Promise<Ready>((resolve, reject) => {
      this.rejectStart = reject;
      ep.onMessage((m) => {
        const env = m as FromWorkerEnvelope;
        if (env.k === 'res') this.settle(env);
        else if (env.k === 'evt') this.opts.onEvent?.(env.event);
        else if (env.k === 'ready' && ep === this.endpoint && this.state === 'starting') {
          if (env.ok) {
            this.state = 'ready';
            this.everReady = true;
            this.rejectStart = null;
            this.opts.onReady?.(env.value as Ready, this.starts);
            this.flushQueued();
            resolve(env.value as Ready);
          } else {
            const err = new ChannelError('start', `${this.opts.name} failed to start: ${env.error.message}`, env.error);
            this.consecutiveFailures++;
            this.endpoint = null;
            void ep.terminate();
            // A replacement that cannot start is reported like a death (the next try waits longer).
            this.down(err, this.everReady, this.everReady ? new Error(`failed to start: ${env.error.message}`) : undefined);
          }
        }
      });
      ep.onExit((err) => {
        if (ep !== this.endpoint) return;
        this.endpoint = null;
        if (this.state === 'closed') return;
        const wasStarting = this.state === 'starting';
        this.crashes++;
        this.consecutiveFailures++;
        const e = new ChannelError('exited', `${this.opts.name} stopped (${err.message})${wasStarting ? ' while starting' : ' with the request pending'}`);
        this.down(e, this.everReady, err);
      });
    });
  }

  /** The worker is gone: fail everything pending, then respawn as configured. */
  private down(err: ChannelError, respawnAllowed: boolean, cause?: Error): void {
    this.state = 'down';
    this.startPromise = null;
    this.rejectStart?.(err);
    this.rejectStart = null;
    this.downSinceMs = Date.now();
    this.failAll(err);
    const eager = respawnAllowed && (this.opts.respawn ?? 'eager') === 'eager';
    const inMs = eager ? this.backoffMs() : this.opts.respawn === 'lazy' && respawnAllowed ? this.backoffMs() : null;
    if (cause) this.opts.onExit?.(cause, inMs);
    if (eager) {
      this.respawnTimer = setTimeout(() => {
        this.respawnTimer = null;
        if (this.state === 'down') this.start().catch(() => undefined);
      }, inMs!);
      this.respawnTimer.unref();
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  private settle(env: Extract<FromWorkerEnvelope, { k: 'res' }>): void {
    const p = this.pending.get(env.rid);
    if (!p) return; // timed out earlier
    this.pending.delete(env.rid);
    if (p.timer) clearTimeout(p.timer);
    this.consecutiveFailures = 0;
    if (env.ok) p.resolve(env.value);
    else p.reject(new ChannelError('remote', env.error.message, env.error));
  }

  private flushQueued(): void {
    for (const [rid, p] of this.pending) {
      if (!p.queued) continue;
      const { body, transfer } = p.queued;
      p.queued = null;
      this.endpoint!.post({ k: 'req', rid, body } satisfies ToWorkerEnvelope, transfer);
    }
  }

  /**
   * Sends one request; resolves with the handler's answer. Refused at once ('full') when `maxPending` requests are
   * pending; fails ('exited') when the worker dies first, ('timeout') when no answer comes in time.
   */
  request<T>(body: unknown, options: RequestOptions = {}): Promise<T> {
    if (this.state === 'closed') return Promise.reject(new ChannelError('closed', `${this.opts.name} is closed`));
    if (this.pending.size >= this.opts.maxPending) {
      return Promise.reject(new ChannelError('full', `${this.opts.name} has ${this.pending.size} requests pending (limit ${this.opts.maxPending}); request refused`));
    }
    if (this.state === 'down' && (this.opts.respawn === 'never' || (!this.everReady && this.opts.respawn !== 'lazy'))) {
      return Promise.reject(new ChannelError('exited', `${this.opts.name} has stopped and is not restarted`));
    }
    const rid = this.nextRid++;
    return new Promise<T>((resolve, reject) => {
      const ready = this.state === 'ready';
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, timer: null, queued: ready ? null : { body, transfer: options.transfer } };
      const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs ?? 0;
      if (timeoutMs > 0) p.timer = setTimeout(() => this.timedOut(rid, timeoutMs), timeoutMs);
      this.pending.set(rid, p);
      if (ready) this.endpoint!.post({ k: 'req', rid, body } satisfies ToWorkerEnvelope, options.transfer);
      else if (this.state === 'idle' || (this.state === 'down' && !this.respawnTimer)) this.start().catch(() => undefined);
    });
  }

  private timedOut(rid: number, timeoutMs: number): void {
    const p = this.pending.get(rid);
    if (!p) return;
    this.pending.delete(rid);
    p.reject(new ChannelError('timeout', `${this.opts.name} did not answer within ${timeoutMs} ms`));
    if (this.opts.onTimeout === 'restart' && !p.queued) void this.kill(`restarted after not answering within ${timeoutMs} ms`);
  }

  /** A one-way message (no answer, not counted as pending); dropped when no worker is running. */
  notify(body: unknown, transfer?: readonly Transferable[]): boolean {
    if (this.state !== 'ready') return false;
    this.endpoint!.post({ k: 'req', rid: 0, body } satisfies ToWorkerEnvelope, transfer);
    return true;
  }

  /** Kills the worker as a crash would (pending requests fail, respawn as configured): timeouts and tests. */
  async kill(reason = 'killed'): Promise<void> {
    const ep = this.endpoint;
    if (!ep) return;
    this.endpoint = null;
    this.crashes++;
    this.consecutiveFailures++;
    const err = new ChannelError('exited', `${this.opts.name} ${reason}`);
    this.down(err, this.everReady, new Error(reason));
    await ep.terminate();
  }

  /** Stops the worker for good; pending requests fail ('closed'). */
  async close(): Promise<void> {
    this.state = 'closed';
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    this.respawnTimer = null;
    const err = new ChannelError('closed', `${this.opts.name} closed`);
    this.rejectStart?.(err);
    this.rejectStart = null;
    this.failAll(err);
    const ep = this.endpoint;
    this.endpoint = null;
    if (ep) await ep.terminate();
  }
}
