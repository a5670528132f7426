import { NUM_EMOTIONS } from '../protocol/labels.js';
import { DropOldestQueue } from '../lib/bounded-queue.js';
import { WindowDroppedError, type InferOutcome } from './infer-outcome.js';

export interface BatcherOptions {
  /** Model name, for errors and metrics. */
  name: string;
  /** Most windows in one model call. 1 turns batching off. */
  maxBatch: number;
  /** Longest a window waits for others before a partial batch goes (Triton's max_queue_delay). */
  maxDelayMs: number;
  /** Windows waiting at most; beyond it the oldest is dropped (rejected with WindowDroppedError) and counted. */
  maxQueue: number;
  /** Batches in the model at once (normally the number of ONNX workers). */
  maxInFlight: number;
  /** A model call that has not settled by then fails its windows and frees its slot (a hung worker never stalls every session). */
  timeoutMs?: number;
  onBatch?: (size: number, inferMs: number) => void;
  onDrop?: (count: number) => void;
  onWindowError?: (err: Error) => void;
}

interface Item<W> {
  window: W;
  enqueuedAt: number;
  resolve: (o: InferOutcome) => void;
  reject: (e: Error) => void;
}

function checkPosterior(p: unknown, name: string): Float32Array {
  if (!(p instanceof Float32Array) || p.length !== NUM_EMOTIONS || !p.every(Number.isFinite)) {
    throw new Error(`${name}: model returned a malformed posterior (need ${NUM_EMOTIONS} finite float32 values)`);
  }
  return p;
}

export class BatchTimeoutError extends Error {
  override name = 'BatchTimeoutError';
}

/**
 * Dynamic batcher for one shared model: windows from all sessions are collected until `maxBatch` are waiting or
 * the oldest has waited `maxDelayMs`, then sent as one `inferBatch` call; each caller gets its own posterior with
 * its own queue and inference time. While `maxInFlight` batches run, windows keep collecting, so batches grow
 * exactly when the model is the bottleneck. When a batch call fails, every window in it is retried alone: a
 * malformed window fails by itself and the others succeed.
 */
export class DynamicBatcher<W> {
  private readonly queue: DropOldestQueue<Item<W>>;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private batches = 0;
  private windows = 0;
  private retries = 0;

  constructor(private readonly infer: (windows: W[]) => Promise<Float32Array[]>, private readonly opts: BatcherOptions) {
    if (!(opts.maxBatch >= 1) || !(opts.maxQueue >= 1) || !(opts.maxInFlight >= 1) || !(opts.maxDelayMs >= 0)) {
      throw new Error(`batcher ${opts.name}: invalid options ${JSON.stringify(opts)}`);
    }
    this.queue = new DropOldestQueue<Item<W>>(opts.maxQueue, (item) => {
      opts.onDrop?.(1);
      item.reject(new WindowDroppedError(opts.name));
    });
  }

  submit(window: W): Promise<InferOutcome> {
    if (this.closed) return Promise.reject(new Error(`${this.opts.name}: batcher closed`));
    return new Promise<InferOutcome>((resolve, reject) => {
      this.queue.push({ window, enqueuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.closed || this.queue.length === 0 || this.inFlight >= this.opts.maxInFlight) return;
    const waitedMs = performance.now() - this.queue.peek()!.enqueuedAt;
    if (this.queue.length >= this.opts.maxBatch || waitedMs >= this.opts.maxDelayMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.dispatch();
      this.schedule();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, Math.max(0, this.opts.maxDelayMs - waitedMs));
    }
  }

  private dispatch(): void {
    const items = this.queue.take(this.opts.maxBatch);
    if (items.length === 0) return;
    this.inFlight++;
    this.batches++;
    this.windows += items.length;
    this.run(items).finally(() => {
      this.inFlight--;
      this.schedule();
    });
  }

  private async run(items: Item<W>[]): Promise<void> {
    const start = performance.now();
    let outputs: Float32Array[];
    try {
      outputs = await this.withTimeout(this.infer(items.map((i) => i.window)), items.length);
      if (!Array.isArray(outputs) || outputs.length !== items.length) {
        throw new Error(`${this.opts.name}: inferBatch returned ${Array.isArray(outputs) ? outputs.length : typeof outputs} results for ${items.length} windows`);
      }
    } catch (err) {
      if (err instanceof BatchTimeoutError) {
        // Retrying a hung model would only hang again: fail the whole batch.
        for (const item of items) this.fail(item, err);
        return;
      }
      if (items.length === 1) {
        this.fail(items[0], err);
        return;
      }
      // Isolate the culprit: every window alone. Costs one extra round only when something is wrong.
      this.retries++;
      await Promise.all(items.map((item) => this.run([item])));
      return;
    }
    const end = performance.now();
    this.opts.onBatch?.(items.length, end - start);
    items.forEach((item, i) => {
      try {
        item.resolve({ probs: checkPosterior(outputs[i], this.opts.name), queueMs: start - item.enqueuedAt, inferMs: end - start, batchSize: items.length });
      } catch (err) {
        this.fail(item, err);
      }
    });
  }

  private withTimeout<T>(p: Promise<T>, n: number): Promise<T> {
    const ms = this.opts.timeoutMs;
    if (!ms) return p;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BatchTimeoutError(`${this.opts.name}: model call with ${n} windows did not finish in ${ms} ms`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private fail(item: Item<W>, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.opts.onWindowError?.(e);
    item.reject(e);
  }

  stats(): { queued: number; inFlight: number; batches: number; windows: number; dropped: number; retries: number } {
    return { queued: this.queue.length, inFlight: this.inFlight, batches: this.batches, windows: this.windows, dropped: this.queue.dropped, retries: this.retries };
  }

  /** Rejects everything still waiting. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const item of this.queue.clear()) item.reject(new Error(`${this.opts.name}: batcher closed`));
  }
}
