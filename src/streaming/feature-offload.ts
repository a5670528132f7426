import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../models/ts-worker.js';
import type { FeatureOp, FeatureRequest, FeatureResponse } from './feature-worker.js';

const WORKER_URL = new URL('./feature-worker.ts', import.meta.url);
/** Smallest audio pack (64 ms at 16 kHz); a pack grows by doubling within a turn. */
const PACK_MIN_SAMPLES = 1024;

/**
 * A session's speech front end running in a feature worker. `push` never blocks; `window` resolves with exactly the
 * window the model's own stream builds (or null: no audio yet, the stream broke, the worker died).
 */
/** Backlog a worker may hold per stream it serves (20 s of 16 kHz audio), whatever `maxBacklogSamples` says. */
export const BACKLOG_SAMPLES_PER_STREAM = 16_000 * 20;

export interface RemoteSpeechStream {
  push(samples16k: Float32Array): void;
  window(endSample: number, windowSamples: number): Promise<unknown>;
  close(): void;
}

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
  readonly worker: Worker;
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
  dead = false;
  batches = 0;

  constructor(private readonly maxBacklog: number, private readonly backlogPerStream: number, private readonly onDeath: (w: FeatureWorker, err: Error) => void) {
    this.worker = startTsWorker(WORKER_URL);
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', (code) => this.die(new Error(`feature worker exited with code ${code}`)));
  }

  init(speechDir?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const onMsg = (res: FeatureResponse) => {
        if (res.op !== 'init') return;
        this.worker.off('message', onMsg);
        if (res.ok) {
          this.worker.on('message', (r: FeatureResponse) => this.onDone(r));
          resolve(res.name);
        } else reject(new Error(res.error));
      };
      this.worker.on('message', onMsg);
      this.worker.once('exit', () => reject(new Error('feature worker exited during start-up')));
      this.worker.postMessage({ op: 'init', speechDir } satisfies FeatureRequest);
    });
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.failAll();
    this.onDeath(this, err);
  }

  /** Every stream breaks and every window still awaited resolves null: nothing waits on a worker that is gone. */
  private failAll(): void {
    this.dead = true;
    for (const s of this.streams.values()) s.broken = true;
    for (const w of this.waiters.values()) w.resolve(null);
    this.waiters.clear();
    this.ops = [];
    this.queuedSamples = 0;
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
    this.backlogSamples += audio.length;
    // Sized from this turn (turns are alike under steady load): one allocation per flush instead of one per chunk.
    this.pack = new Float32Array(Math.max(PACK_MIN_SAMPLES, Math.ceil(this.queuedSamples * 1.25)));
    this.ops = [];
    this.queuedSamples = 0;
    this.batches++;
    this.worker.postMessage(req, [audio.buffer as ArrayBuffer]);
  }

  private onDone(res: FeatureResponse): void {
    if (res.op !== 'done') return;
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
    await this.worker.terminate();
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
  respawns = 0;

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
    const w = new FeatureWorker(this.opts.maxBacklogSamples ?? 16_000 * 600, this.opts.backlogSamplesPerStream ?? BACKLOG_SAMPLES_PER_STREAM, (dead, err) => this.onDeath(dead, err));
    try {
      await w.init(this.opts.speechDir);
    } catch (err) {
      // A worker that could not load the model must not stay alive (it would keep the process running).
      await w.terminate();
      throw err;
    }
    return w;
  }

  private onDeath(dead: FeatureWorker, err: Error): void {
    if (this.closed) return;
    const i = this.workers.indexOf(dead);
    if (i < 0) return;
    this.respawns++;
    this.opts.log?.('error', `feature worker ${i} died (${err.message}); its ${dead.streams.size} sessions lose speech posteriors; starting a replacement`);
    this.spawn().then((fresh) => {
      if (this.closed) void fresh.terminate();
      else this.workers[i] = fresh;
    }, (e: unknown) => this.opts.log?.('error', `replacement feature worker failed to start: ${e instanceof Error ? e.message : String(e)}`));
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
    await this.workers[i].worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
