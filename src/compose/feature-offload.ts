import { threadEndpoint } from '../runtime/endpoint.js';
import { startTsWorker } from '../runtime/ts-worker.js';
import { ChannelError, WorkerChannel } from '../runtime/worker-channel.js';
import type { RemoteSpeechStream } from '../streaming/pipeline-models.js';
import type { FeatureOp, FeatureRequest, FeatureResponse, FeatureWorkerData } from './feature-worker.js';

const WORKER_URL = new URL('./feature-worker.ts', import.meta.url);
/** Smallest audio pack (64 ms at 16 kHz); a pack grows by doubling within a turn. */
const PACK_MIN_SAMPLES = 1024;
/** Batches one worker may have in flight (one per event-loop turn; the sample backlog bounds them far sooner). */
const MAX_PENDING_BATCHES = 1024;

/**
 * A session's speech front end running in a feature worker. `push` never blocks; `window` resolves with exactly the
 * window the model's own stream builds (or null: no audio yet, the stream broke, the worker died).
 */
/** Backlog a worker may hold per stream it serves (20 s of 16 kHz audio), whatever `maxBacklogSamples` says. */
export const BACKLOG_SAMPLES_PER_STREAM = 16_000 * 20;

export type { RemoteSpeechStream };

export interface FeatureOffloadOptions {
  workers: number;
  /** Directory of the speech model (the worker loads it to create the same streams); undefined = the default. */
  speechDir?: string;
  /**
   * Audio samples sent to one worker and not yet processed, at most. Past it (the worker is that far behind real
   * time) new audio for that worker is dropped and the affected streams are marked broken: their windows resolve
   * null (counted in `stats().brokenStreams`) instead of memory growing without bound. The limit grows with the
   * streams the worker serves (at least `BACKLOG_SAMPLES_PER_STREAM` each), so a stall of a few seconds at start-up
   * (every session connecting at once, the voice-activity graph's first calls) does not break hundreds of sessions:
   * a fixed 600 s shared by 224 sessions allowed 2.7 s each. Still bounded: streams are bounded by server.maxSessions.
   */
  maxBacklogSamples?: number;
  /** The per-stream floor of that limit (default BACKLOG_SAMPLES_PER_STREAM). */
  backlogSamplesPerStream?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

interface StreamState {
  sid: number;
  broken: boolean;
  onError: (msg: string) => void;
}

interface Waiter {
  resolve: (w: unknown) => void;
  stream: StreamState;
}

class FeatureWorker {
  readonly channel: WorkerChannel<string>;
  private ops: FeatureOp[] = [];
  /** This turn's audio of every stream, packed as it arrives; transferred (not copied) at the flush. */
  private pack = new Float32Array(PACK_MIN_SAMPLES);
  queuedSamples = 0;
  /** Samples sent to the worker and not yet processed by it. */
  backlogSamples = 0;
  private flushScheduled = false;
  private nextBatch = 1;
  private nextReq = 1;
  private readonly waiters = new Map<number, Waiter>();
  readonly streams = new Map<number, StreamState>();
  batches = 0;

  constructor(name: string, data: FeatureWorkerData, private readonly maxBacklog: number, private readonly backlogPerStream: number, onDeath: (w: FeatureWorker, err: Error) => void) {
    // A dead worker is replaced at once (with backoff if replacements keep dying); its sessions' streams break.
    this.channel = new WorkerChannel<string>({
      name,
      maxPending: MAX_PENDING_BATCHES,
      spawn: () => threadEndpoint(startTsWorker(WORKER_URL, { workerData: data })),
      onExit: (err) => {
        this.failAll();
        onDeath(this, err);
      },
    });
  }

  /** The worker is up with its model (not dead, not being replaced). */
  get dead(): boolean {
    return !this.channel.alive;
  }

  /** Every stream breaks and every window still awaited resolves null: nothing waits on a worker that is gone. */
  private failAll(): void {
    for (const s of this.streams.values()) s.broken = true;
    for (const w of this.waiters.values()) w.resolve(null);
    this.waiters.clear();
    this.ops = [];
    this.queuedSamples = 0;
    this.backlogSamples = 0;
  }

  private schedule(): void {
    if (this.flushScheduled || this.dead) return;
    this.flushScheduled = true;
    // One message per event-loop turn: every frame that arrived in this turn's socket reads goes in one batch.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.dead || this.ops.length === 0) return;
    const audio = this.pack.subarray(0, this.queuedSamples);
    const req: FeatureRequest = { op: 'batch', id: this.nextBatch++, ops: this.ops, audio };
    const samples = audio.length;
    this.backlogSamples += samples;
    // Sized from this turn (turns are alike under steady load): one allocation per flush instead of one per chunk.
    this.pack = new Float32Array(Math.max(PACK_MIN_SAMPLES, Math.ceil(this.queuedSamples * 1.25)));
    this.ops = [];
    this.queuedSamples = 0;
    this.batches++;
    this.channel.request<FeatureResponse>(req, { transfer: [audio.buffer as ArrayBuffer] }).then((res) => this.onDone(res), (err: Error) => this.lost(req, samples, err));
  }

  /** A batch that got no answer: a dead worker already broke every stream; a refused one breaks the streams in it. */
  private lost(req: FeatureRequest, samples: number, err: Error): void {
    if (err instanceof ChannelError && err.kind !== 'full' && err.kind !== 'timeout') return;
    this.backlogSamples -= samples;
    for (const op of req.ops) {
      const s = this.streams.get(op.sid);
      if (s && !s.broken) {
        s.broken = true;
        s.onError(`feature worker refused a batch (${err.message}); this session's speech posteriors stop`);
      }
      if (op.t !== 'window') continue;
      this.waiters.get(op.req)?.resolve(null);
      this.waiters.delete(op.req);
    }
  }

  private onDone(res: FeatureResponse): void {
    this.backlogSamples -= res.samples;
    for (const e of res.errors) this.streams.get(e.sid)?.onError(e.error);
    for (const w of res.windows) {
      const waiter = this.waiters.get(w.req);
      if (!waiter) continue;
      this.waiters.delete(w.req);
      if (w.error) waiter.stream.onError(w.error);
      waiter.resolve(waiter.stream.broken ? null : w.window);
    }
  }

  open(sid: number, onError: (msg: string) => void): StreamState {
    const state: StreamState = { sid, broken: this.dead, onError };
    this.streams.set(sid, state);
    this.ops.push({ t: 'open', sid });
    this.schedule();
    return state;
  }

  push(state: StreamState, samples: Float32Array): void {
    if (state.broken || this.dead || samples.length === 0) return;
    const limit = Math.max(this.maxBacklog, this.backlogPerStream * this.streams.size);
    if (this.backlogSamples + this.queuedSamples + samples.length > limit) {
      // A gap in the audio would silently shift every later frame: the stream stops instead, visibly.
      state.broken = true;
      state.onError(`feature worker over ${limit} samples behind; this session's speech posteriors stop`);
      return;
    }
    this.ops.push({ t: 'push', sid: state.sid, off: this.queuedSamples, len: samples.length });
    // Copied now: the caller may reuse its buffer after push returns.
    const needed = this.queuedSamples + samples.length;
    if (needed > this.pack.length) {
      const grown = new Float32Array(Math.max(needed, this.pack.length * 2));
      grown.set(this.pack.subarray(0, this.queuedSamples));
      this.pack = grown;
    }
    this.pack.set(samples, this.queuedSamples);
    this.queuedSamples = needed;
    this.schedule();
  }

  window(state: StreamState, endSample: number, windowSamples: number): Promise<unknown> {
    if (state.broken || this.dead) return Promise.resolve(null);
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.waiters.set(req, { resolve, stream: state });
      this.ops.push({ t: 'window', sid: state.sid, req, endSample, windowSamples });
      this.schedule();
    });
  }

  close(state: StreamState): void {
    if (!this.streams.delete(state.sid) || this.dead) return;
    this.ops.push({ t: 'close', sid: state.sid });
    this.schedule();
  }

  async terminate(): Promise<void> {
    this.failAll();
    await this.channel.close();
  }
}

/**
 * Speech front ends of all sessions spread over `workers` threads (a session stays on one). Replaces a dead worker
 * for new sessions; sessions that were on it lose their speech posteriors (null) rather than getting wrong ones.
 */
export class FeatureOffload {
  private readonly workers: FeatureWorker[] = [];
  private nextSid = 1;
  private closed = false;

  private constructor(private readonly opts: FeatureOffloadOptions) {}

  /** Starts the workers and loads the speech model in each; rejects (and stops them) when any fails. */
  static async start(opts: FeatureOffloadOptions): Promise<FeatureOffload> {
    if (!(opts.workers >= 1)) throw new Error(`feature workers must be >= 1, got ${opts.workers}`);
    const pool = new FeatureOffload(opts);
    try {
      for (let i = 0; i < opts.workers; i++) pool.workers.push(await pool.spawn());
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  private async spawn(): Promise<FeatureWorker> {
    const i = this.workers.length;
    const w = new FeatureWorker(`feature worker ${i}`, { speechDir: this.opts.speechDir }, this.opts.maxBacklogSamples ?? 16_000 * 600, this.opts.backlogSamplesPerStream ?? BACKLOG_SAMPLES_PER_STREAM, (dead, err) => this.onDeath(dead, err));
    try {
      await w.channel.start();
    } catch (err) {
      // A worker that could not load the model must not stay alive (it would keep the process running).
      await w.terminate();
      throw err;
    }
    return w;
  }

  /** Replacement workers started after a death (the channel starts them, with backoff when they keep dying). */
  get respawns(): number {
    return this.workers.reduce((n, w) => n + w.channel.respawns, 0);
  }

  private onDeath(dead: FeatureWorker, err: Error): void {
    if (this.closed) return;
    const i = this.workers.indexOf(dead);
    this.opts.log?.('error', `feature worker ${i} died (${err.message}); its ${dead.streams.size} sessions lose speech posteriors; starting a replacement`);
  }

  /** A new session's stream, on the live worker with the fewest sessions. */
  open(onError: (msg: string) => void = () => undefined): RemoteSpeechStream {
    if (this.closed) throw new Error('feature offload closed');
    // Until a dead worker's replacement is up, new sessions go to the live ones (a stream on a dead one is broken).
    const live = this.workers.filter((x) => !x.dead);
    const w = (live.length > 0 ? live : this.workers).reduce((a, b) => (b.streams.size < a.streams.size ? b : a));
    const state = w.open(this.nextSid++, onError);
    return {
      push: (samples) => w.push(state, samples),
      window: (endSample, windowSamples) => w.window(state, endSample, windowSamples),
      close: () => w.close(state),
    };
  }

  stats(): { workers: number; streams: number; brokenStreams: number; backlogSamples: number; batches: number; respawns: number } {
    let streams = 0, broken = 0, backlog = 0, batches = 0;
    for (const w of this.workers) {
      streams += w.streams.size;
      for (const s of w.streams.values()) if (s.broken) broken++;
      backlog += w.backlogSamples + w.queuedSamples;
      batches += w.batches;
    }
    return { workers: this.workers.length, streams, brokenStreams: broken, backlogSamples: backlog, batches, respawns: this.respawns };
  }

  /** Test hook: kill one worker as a crash would. */
  async killWorker(i: number): Promise<void> {
    await this.workers[i].channel.kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
