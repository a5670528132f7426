import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { TensorData } from '../contracts/models.js';
import { serve, type ServeContext } from '../runtime/serve.js';

/**
 * One worker thread of the ONNX pool: holds one InferenceSession per loaded model and runs them off the main event
 * loop. Messages are small and carry tensors as transferred ArrayBuffers (src/runtime/worker-channel.ts).
 */
export type WorkerRequest =
  | { op: 'load'; key: string; source: string | Uint8Array; providers: string[]; intraOpThreads: number }
  | { op: 'run'; key: string; feeds: Record<string, TensorData> }
  | { op: 'dispose'; key: string };

/** The answer to a load: the provider it runs on, or why none worked (a load failure is an answer, not a throw). */
export type LoadResult =
  | { ok: true; provider: string; failures: { provider: string; error: string }[]; inputNames: readonly string[]; outputNames: readonly string[] }
  | { ok: false; error: string; failures: { provider: string; error: string }[] };

/** What the worker is started with: `serial` runs every operation one after another (the process's WebGPU thread). */
export interface OnnxWorkerData { serial?: boolean }

const sessions = new Map<string, ort.InferenceSession>();
/** Loads in progress: a run that arrives while its model is still loading (after a respawn) waits for it. */
const loading = new Map<string, Promise<unknown>>();

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((l) => l.trim().length > 0)?.slice(0, 300) ?? text;
}

async function load(req: Extract<WorkerRequest, { op: 'load' }>): Promise<LoadResult> {
  const failures: { provider: string; error: string }[] = [];
  for (const provider of req.providers) {
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        intraOpNumThreads: req.intraOpThreads,
        interOpNumThreads: 1,
        logSeverityLevel: 3,
      };
      const session = typeof req.source === 'string'
        ? await ort.InferenceSession.create(req.source, options)
        : await ort.InferenceSession.create(req.source, options);
      sessions.set(req.key, session);
      return { ok: true, provider, failures, inputNames: session.inputNames, outputNames: session.outputNames };
    } catch (err) {
      failures.push({ provider, error: firstLine(err) });
    }
  }
  return { ok: false, error: failures.map((f) => `${f.provider}: ${f.error}`).join('; '), failures };
}

async function run(req: Extract<WorkerRequest, { op: 'run' }>, ctx: ServeContext): Promise<{ outputs: Record<string, TensorData>; runMs: number }> {
  await loading.get(req.key);
  const session = sessions.get(req.key);
  if (!session) throw new Error(`model ${req.key} not loaded in this worker`);
  const t0 = performance.now();
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await session.run(feeds);
  } catch (err) {
    throw new Error(firstLine(err), { cause: err });
  }
  const outputs: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(out)) {
    const data = Float32Array.from(t.data as Float32Array);
    outputs[name] = { data, dims: t.dims.map(Number) };
    ctx.transfer(data.buffer as ArrayBuffer);
  }
  return { outputs, runMs: performance.now() - t0 };
}

async function handle(req: WorkerRequest, ctx: ServeContext): Promise<unknown> {
  if (req.op === 'load') {
    const p = load(req);
    loading.set(req.key, p);
    try {
      return await p;
    } finally {
      loading.delete(req.key);
    }
  }
  if (req.op === 'run') return run(req, ctx);
  await sessions.get(req.key)?.release();
  sessions.delete(req.key);
  return true;
}

// On the WebGPU thread no two ONNX Runtime calls overlap (two WebGPU sessions running at once crash the process,
// onnxruntime#32561): each operation starts when the previous one has settled.
let tail: Promise<unknown> = Promise.resolve();
const serial = ((workerData ?? {}) as OnnxWorkerData).serial === true;
serve<WorkerRequest>({
  handle: serial ? (req, ctx) => (tail = tail.then(() => handle(req, ctx), () => handle(req, ctx))) : handle,
});
