import { loadModel, onnxChannel, type OnnxChannel } from './onnx-channel.js';
import type { LoadResult } from './onnx-worker.js';

/**
 * The process's one WebGPU thread. Two ONNX Runtime WebGPU sessions running at the same time in one process crash
 * it (onnxruntime#32561), so every WebGPU session of the process, whichever worker pool (server, event loop, bench)
 * loads it, lives in this one worker, which runs its operations one after another. CPU sessions stay in their pools.
 * Shared by reference count: the thread stops when the last pool that used it closes.
 */
interface GpuModel { source: string | Uint8Array; intraOpThreads: number }

let channel: OnnxChannel | null = null;
let users = 0;
let nextKey = 0;
/** Models loaded on the thread, so a replacement thread loads them again before it runs anything. */
const models = new Map<string, GpuModel>();
let log: ((level: 'info' | 'warn' | 'error', msg: string) => void) | undefined;

export function acquireWebGpuThread(logger?: typeof log): OnnxChannel {
  users++;
  log ??= logger;
  channel ??= onnxChannel('WebGPU worker', { serial: true }, {
    onExit: (err) => log?.('error', `WebGPU worker died (${err.message}); starting a replacement that reloads ${models.size} models`),
    onReady: (_v, starts) => {
      if (starts === 1) return;
      for (const [key, m] of models) {
        void loadModel(channel!, { op: 'load', key, source: m.source, providers: ['webgpu'], intraOpThreads: m.intraOpThreads }).then((res) => {
          if (!res.ok) log?.('error', `replacement WebGPU worker could not reload ${key}: ${res.error}`);
        }, () => undefined);
      }
    },
  });
  return channel;
}

export async function releaseWebGpuThread(): Promise<void> {
  if (users === 0 || --users > 0) return;
  const ch = channel;
  channel = null;
  log = undefined;
  models.clear();
  await ch?.close();
}

/** Loads a model on the WebGPU thread under a process-unique key. */
export async function loadOnWebGpu(ch: OnnxChannel, source: string | Uint8Array, intraOpThreads: number): Promise<{ key: string; res: LoadResult }> {
  const key = `gpu${nextKey++}`;
  const res = await loadModel(ch, { op: 'load', key, source, providers: ['webgpu'], intraOpThreads });
  if (res.ok) models.set(key, { source, intraOpThreads });
  return { key, res };
}

export function forgetWebGpuModel(key: string): void {
  models.delete(key);
}

/** For tests and /metrics: whether the thread is up and how many models and pools use it. */
export function webGpuThreadStats(): { running: boolean; models: number; users: number; respawns: number } {
  return { running: channel?.alive ?? false, models: models.size, users, respawns: channel?.respawns ?? 0 };
}
