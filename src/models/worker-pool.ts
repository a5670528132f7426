import type { Feeds, OnnxRunner, OnnxRunnerFactory, RunOptions, TensorData } from '../contracts/models.js';
import type { LoadResult, WorkerRequest } from './onnx-worker.js';
import { loadModel, onnxChannel, type OnnxChannel } from './onnx-channel.js';
import { guardSoftwareVulkan, providerCandidates, type ProviderChoice } from './providers.js';
import { withCpuFallback, type FallbackInfo } from './provider-fallback.js';
import { acquireWebGpuThread, forgetWebGpuModel, loadOnWebGpu, releaseWebGpuThread } from './webgpu-thread.js';

export interface WorkerPoolOptions {
  workers: number;
  intraOpThreads: number;
  executionProvider: ProviderChoice;
  /** Let WebGPU run on a software Vulkan device (lavapipe, SwiftShader): tests and CI only; slower than the CPU. */
  allowSoftwareAdapter?: boolean;
  /** One line per provider decision (auto fallback, explicit failure). */
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

type Failure = { provider: string; error: string };

/**
 * A fixed pool of worker threads running ONNX Runtime. Every CPU (and CUDA) model is loaded into every worker
 * (sessions are shared by all streams); a run goes to the least busy worker. WebGPU models go to the process's one
 * WebGPU thread instead (src/models/webgpu-thread.ts), shared with every other pool of the process. `runnerFactory`
 * is the OnnxRunnerFactory the model loaders get.
 */
export class OnnxWorkerPool {
  private readonly workers: OnnxChannel[] = [];
  private nextKey = 0;
  /** Providers that already failed in this process: `auto` stops trying them for later models. */
  private readonly failedProviders = new Map<string, string>();
  private closed = false;
  private gpu: OnnxChannel | null = null;
  /** This pool's models on the shared WebGPU thread: released there when the pool closes. */
  private readonly gpuKeys = new Set<string>();

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

  /** Replacement workers started after a death. */
  get respawns(): number {
    return this.workers.reduce((n, w) => n + w.respawns, 0);
  }

  private spawn(index: number): OnnxChannel {
    const ch: OnnxChannel = onnxChannel(`ONNX worker ${index}`, {}, {
      // A dead worker is replaced at once and reloads every model first; calls it held have already failed alone.
      onExit: (err) => this.opts.log?.('error', `ONNX worker ${index} died (${err.message}); starting a replacement`),
      onReady: (_v, starts) => {
        if (starts === 1) return;
        for (const [key, m] of this.loaded) {
          void loadModel(ch, { op: 'load', key, source: m.source, providers: [m.provider], intraOpThreads: this.opts.intraOpThreads }).then((res) => {
            if (!res.ok) this.opts.log?.('error', `replacement worker ${index} could not reload ${key}: ${res.error}`);
          }, () => undefined);
        }
      },
    });
    return ch;
  }

  private ensureWorkers(): OnnxChannel[] {
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

  /** Tries the candidates in order: WebGPU on the process's WebGPU thread, the others on this pool's workers. */
  private async open(source: string | Uint8Array, label: string, candidates: string[]): Promise<OnnxRunner> {
    const failures: Failure[] = [];
    let opened: OnnxRunner | null = null;
    for (let i = 0; i < candidates.length && !opened;) {
      const group = [candidates[i++]];
      if (group[0] !== 'webgpu') while (i < candidates.length && candidates[i] !== 'webgpu') group.push(candidates[i++]);
      const { runner, res } = group[0] === 'webgpu' ? await this.openOnGpu(source, label) : await this.openOnWorkers(source, label, group);
      failures.push(...res.failures);
      opened = runner;
    }
    for (const f of failures) this.failedProviders.set(f.provider, f.error);
    if (!opened) {
      const hint = this.opts.executionProvider === 'auto' || this.opts.executionProvider === 'cpu' ? '' : '; use models.executionProvider: auto to fall back to the CPU';
      throw new Error(`cannot load ${label} on ${candidates.join(' / ')}: ${failures.map((f) => `${f.provider}: ${f.error}`).join('; ')}${hint}`);
    }
    if (failures.length > 0) {
      this.opts.log?.('warn', `execution provider ${this.opts.executionProvider}: ${failures.map((f) => `${f.provider} unavailable (${f.error})`).join('; ')}; ${label} runs on ${opened.provider}`);
    }
    return opened;
  }

  private async openOnWorkers(source: string | Uint8Array, label: string, providers: string[]): Promise<{ runner: OnnxRunner | null; res: LoadResult }> {
    const workers = this.ensureWorkers();
    const key = `m${this.nextKey++}`;
    const load = (w: OnnxChannel, p: string[]) => loadModel(w, { op: 'load', key, source, providers: p, intraOpThreads: this.opts.intraOpThreads });
    // The first worker decides the provider; the others load with exactly that one.
    const first = await load(workers[0], providers);
    if (!first.ok) return { runner: null, res: first };
    const rest = await Promise.all(workers.slice(1).map((w) => load(w, [first.provider])));
    const bad = rest.find((r) => !r.ok);
    if (bad && !bad.ok) throw new Error(`cannot load ${label} in every worker: ${bad.error}`);
    this.loaded.set(key, { source, provider: first.provider });
    const runner = this.runnerOn(label, key, first.provider, () => this.workers.reduce((a, b) => (b.pendingCount < a.pendingCount ? b : a)), async () => {
      this.loaded.delete(key);
      await Promise.all(this.workers.map((w) => w.request({ op: 'dispose', key }).catch(() => undefined)));
    });
    return { runner, res: first };
  }

  private async openOnGpu(source: string | Uint8Array, label: string): Promise<{ runner: OnnxRunner | null; res: LoadResult }> {
    if (this.closed) throw new Error('worker pool closed');
    const gpu = (this.gpu ??= acquireWebGpuThread(this.opts.log));
    const { key, res } = await loadOnWebGpu(gpu, source, this.opts.intraOpThreads);
    if (!res.ok) return { runner: null, res };
    this.gpuKeys.add(key);
    return { res, runner: this.runnerOn(label, key, 'webgpu', () => gpu, () => this.disposeOnGpu(gpu, key)) };
  }

  private async disposeOnGpu(gpu: OnnxChannel, key: string): Promise<void> {
    if (!this.gpuKeys.delete(key)) return;
    forgetWebGpuModel(key);
    await gpu.request({ op: 'dispose', key }).catch(() => undefined);
  }

  private runnerOn(label: string, key: string, provider: string, pick: () => OnnxChannel, dispose: () => Promise<void>): OnnxRunner {
    return {
      provider,
      run: async (feeds: Feeds, options?: RunOptions) => {
        const sent: Record<string, TensorData> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, t] of Object.entries(feeds)) {
          // Transferred, never cloned: the caller's own buffer when it gave it up, else a copy (the caller keeps its buffer).
          const data = options?.transferInputs && ownsWholeBuffer(t.data, transfer) ? t.data : Float32Array.from(t.data);
          sent[name] = { data, dims: t.dims };
          transfer.push(data.buffer as ArrayBuffer);
        }
        const body: WorkerRequest = { op: 'run', key, feeds: sent };
        try {
          const res = await pick().request<{ outputs: Record<string, TensorData> }>(body, { transfer });
          return res.outputs;
        } catch (err) {
          throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
        }
      },
      dispose,
    };
  }

  /** Test hook: kill one worker as a crash would (the pool replaces it). */
  async killWorker(i: number): Promise<void> {
    await this.workers[i].kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
    this.workers.length = 0;
    const gpu = this.gpu;
    if (gpu) {
      // Other pools may still use the thread: this pool's sessions go, the thread stays until its last user closes.
      await Promise.all([...this.gpuKeys].map((key) => this.disposeOnGpu(gpu, key)));
      this.gpu = null;
      await releaseWebGpuThread();
    }
  }
}

/** A view that spans its whole (non-shared) ArrayBuffer, not already being sent: moving it moves exactly this tensor. */
function ownsWholeBuffer(data: Float32Array, sending: ArrayBuffer[]): boolean {
  const buf = data.buffer;
  return buf instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength && !sending.includes(buf);
}
