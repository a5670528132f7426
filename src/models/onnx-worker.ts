import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { TensorData } from './backend.js';

/**
 * One worker thread of the ONNX pool: holds one InferenceSession per loaded model and runs them off the main event
 * loop. Messages are small and carry tensors as transferred ArrayBuffers.
 */
export type WorkerRequest =
  | { op: 'load'; id: number; key: string; source: string | Uint8Array; providers: string[]; intraOpThreads: number }
  | { op: 'run'; id: number; key: string; feeds: Record<string, TensorData> }
  | { op: 'dispose'; id: number; key: string };

export type WorkerResponse =
  | { id: number; ok: true; provider?: string; failures?: { provider: string; error: string }[]; inputNames?: readonly string[]; outputNames?: readonly string[]; outputs?: Record<string, TensorData>; runMs?: number }
  | { id: number; ok: false; error: string; failures?: { provider: string; error: string }[] };

const sessions = new Map<string, ort.InferenceSession>();
/** Loads in progress: a run that arrives while its model is still loading (after a respawn) waits for it. */
const loading = new Map<string, Promise<unknown>>();
const port = parentPort!;

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((l) => l.trim().length > 0)?.slice(0, 300) ?? text;
}

async function load(req: Extract<WorkerRequest, { op: 'load' }>): Promise<WorkerResponse> {
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
      return { id: req.id, ok: true, provider, failures, inputNames: session.inputNames, outputNames: session.outputNames };
    } catch (err) {
      failures.push({ provider, error: firstLine(err) });
    }
  }
  return { id: req.id, ok: false, error: failures.map((f) => `${f.provider}: ${f.error}`).join('; '), failures };
}

async function run(req: Extract<WorkerRequest, { op: 'run' }>): Promise<{ res: WorkerResponse; transfer: ArrayBuffer[] }> {
  await loading.get(req.key);
  const session = sessions.get(req.key);
  if (!session) return { res: { id: req.id, ok: false, error: `model ${req.key} not loaded in this worker` }, transfer: [] };
  const t0 = performance.now();
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  const out = await session.run(feeds);
  const outputs: Record<string, TensorData> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(out)) {
    const data = Float32Array.from(t.data as Float32Array);
    outputs[name] = { data, dims: t.dims.map(Number) };
    transfer.push(data.buffer as ArrayBuffer);
  }
  return { res: { id: req.id, ok: true, outputs, runMs: performance.now() - t0 }, transfer };
}

port.on('message', (req: WorkerRequest) => {
  void (async () => {
    try {
      if (req.op === 'load') {
        const p = load(req);
        loading.set(req.key, p);
        const res = await p;
        loading.delete(req.key);
        port.postMessage(res);
      }
      else if (req.op === 'run') {
        const { res, transfer } = await run(req);
        port.postMessage(res, transfer);
      } else {
        await sessions.get(req.key)?.release();
        sessions.delete(req.key);
        port.postMessage({ id: req.id, ok: true } satisfies WorkerResponse);
      }
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, error: firstLine(err) } satisfies WorkerResponse);
    }
  })();
});
