import type { Worker } from 'node:worker_threads';
import { startTsWorker } from './ts-worker.js';
import type { Feeds, OnnxRunner, OnnxRunnerFactory, RunOptions, TensorData } from './backend.js';
import type { WorkerRequest, WorkerResponse } from './onnx-worker.js';
import { guardSoftwareVulkan, providerCandidates, type ProviderChoice } from './providers.js';
import { withCpuFallback, type FallbackInfo } from './provider-fallback.js';

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void };
type RequestBody = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

const WORKER_URL = new URL('./onnx-worker.ts', import.meta.url);

class PoolWorker {
  readonly worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  inFlight = 0;
  private dead: Error | null = null;

  constructor(onExit: (err: Error) => void) {
    this.worker = startTsWorker(WORKER_URL);
    this.worker.on('message', (res: WorkerResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      p.resolve(res);
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      onExit(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => { if (!this.dead) fail(new Error(`ONNX worker exited with code ${code}`)); });
  }

  request(body: RequestBody, transfer: ArrayBuffer[] = []): Promise<WorkerResponse> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    this.inFlight++;
    return new Promise<WorkerResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id }, transfer);
    }).finally(() => { this.inFlight--; });
  }

  /** Test hook and last resort: kill the thread (the pool replaces it). */
  async terminate(): Promise<void> {
    this.dead = this.dead ?? new Error('worker pool closed');
    await this.worker.terminate();
  }
}

export interface WorkerPoolOptions {
  workers: number;
  intraOpThreads: number;
  executionProvider: ProviderChoice;
  /** Let WebGPU run on a software Vulkan device (lavapipe, SwiftShader): tests and CI only; slower than the CPU. */
  allowSoftwareAdapter?: boolean;
  /** One line per provider decision (auto fallback, explicit failure). */
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/**
 * A fixed pool of worker threads running ONNX Runtime. Every model is loaded into every worker (sessions are shared
 * by all streams); a run goes to the least busy worker. `runnerFactory` is the OnnxRunnerFactory the model loaders get.
 */
export class OnnxWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextKey = 0;
  /** Providers that already failed in this process: `auto` stops trying them for later models. */
  private readonly failedProviders = new Map<string, string>();
  private closed = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    if (!(opts.workers >= 1)) throw new Error(`models.workers must be >= 1, got ${opts.workers}`);
    if (opts.executionProvider === 'auto' || opts.executionProvider === 'webgpu') {
      const note = guardSoftwareVulkan(opts.allowSoftwareAdapter ?? false);
      if (note) opts.log?.('info', note);
    }
  }

  get size(): number {
    return this.opts.workers;
  }

  /** Models loaded so far, so a replacement worker can load them again. */
  private readonly loaded = new Map<string, { source: string | Uint8Array; provider: string }>();
  respawns = 0;

  private spawn(index: number): PoolWorker {
    const w: PoolWorker = new PoolWorker((err) => {
      if (this.closed || this.workers[index] !== w) return;
      // A dead worker is replaced at once and reloads every model; calls it held have already failed alone.
      this.respawns++;
      this.opts.log?.('error', `ONNX worker ${index} died (${err.message}); starting a replacement`);
      const fresh = this.spawn(index);
      this.workers[index] = fresh;
      for (const [key, m] of this.loaded) {
        void fresh.request({ op: 'load', key, source: m.source, providers: [m.provider], intraOpThreads: this.opts.intraOpThreads }).then((res) => {
          if (!res.ok) this.opts.log?.('error', `replacement worker ${index} could not reload ${key}: ${res.error}`);
        }, () => undefined);
      }
    });
    return w;
  }

  private ensureWorkers(): PoolWorker[] {
    if (this.closed) throw new Error('worker pool closed');
    while (this.workers.length < this.opts.workers) this.workers.push(this.spawn(this.workers.length));
    return this.workers;
  }

  readonly runnerFactory: OnnxRunnerFactory = (onnxPath) => this.load(onnxPath);

  /** Models whose accelerator failed mid-run and that now run on the CPU (for /v1/models and the log). */
  readonly fallbacks: (FallbackInfo & { model: string })[] = [];

  async load(source: string | Uint8Array): Promise<OnnxRunner> {
    const label = typeof source === 'string' ? source : `<${source.byteLength} bytes>`;
    const candidates = providerCandidates(this.opts.executionProvider).filter((p) => p === 'cpu' || !this.failedProviders.has(p));
    const runner = await this.open(source, label, candidates);
    if (runner.provider === 'cpu') return runner;
    return withCpuFallback(runner, {
      label,
      loadCpu: () => this.open(source, label, ['cpu']),
      log: this.opts.log,
      onFallback: (info) => this.fallbacks.push({ model: label, ...info }),
    });
  }

  private async open(source: string | Uint8Array, label: string, candidates: string[]): Promise<OnnxRunner> {
    const workers = this.ensureWorkers();
    const key = `m${this.nextKey++}`;
    // The first worker decides the provider; the others load with exactly that one.
    const first = await workers[0].request({ op: 'load', key, source, providers: candidates, intraOpThreads: this.opts.intraOpThreads });
    const failures = 'failures' in first && first.failures ? first.failures : [];
    for (const f of failures) this.failedProviders.set(f.provider, f.error);
    if (!first.ok) {
      const hint = this.opts.executionProvider === 'auto' || this.opts.executionProvider === 'cpu' ? '' : '; use models.executionProvider: auto to fall back to the CPU';
      throw new Error(`cannot load ${label} on ${candidates.join(' / ')}: ${first.error}${hint}`);
    }
    const provider = first.provider!;
    if (failures.length > 0) {
      this.opts.log?.('warn', `execution provider ${this.opts.executionProvider}: ${failures.map((f) => `${f.provider} unavailable (${f.error})`).join('; ')}; ${label} runs on ${provider}`);
    }
    const rest = await Promise.all(workers.slice(1).map((w) => w.request({ op: 'load', key, source, providers: [provider], intraOpThreads: this.opts.intraOpThreads })));
    const bad = rest.find((r) => !r.ok);
    if (bad && !bad.ok) throw new Error(`cannot load ${label} in every worker: ${bad.error}`);
    this.loaded.set(key, { source, provider });
    return {
      provider,
      run: async (feeds: Feeds, options?: RunOptions) => {
        const target = this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
        const sent: Record<string, TensorData> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, t] of Object.entries(feeds)) {
          // Transferred, never cloned: the caller's own buffer when it gave it up, else a copy (the caller keeps its buffer).
          const data = options?.transferInputs && ownsWholeBuffer(t.data, transfer) ? t.data : Float32Array.from(t.data);
          sent[name] = { data, dims: t.dims };
          transfer.push(data.buffer as ArrayBuffer);
        }
        const res = await target.request({ op: 'run', key, feeds: sent }, transfer);
        if (!res.ok) throw new Error(`${label}: ${res.error}`);
        return res.outputs!;
      },
      dispose: async () => {
        this.loaded.delete(key);
        await Promise.all(this.workers.map((w) => w.request({ op: 'dispose', key }).catch(() => undefined)));
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/** A view that spans its whole (non-shared) ArrayBuffer, not already being sent: moving it moves exactly this tensor. */
function ownsWholeBuffer(data: Float32Array, sending: ArrayBuffer[]): boolean {
  const buf = data.buffer;
  return buf instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength && !sending.includes(buf);
}
