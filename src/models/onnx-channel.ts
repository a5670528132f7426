import { threadEndpoint } from '../runtime/endpoint.js';
import { startTsWorker } from '../runtime/ts-worker.js';
import { WorkerChannel, type WorkerChannelOptions } from '../runtime/worker-channel.js';
import type { LoadResult, OnnxWorkerData, WorkerRequest } from './onnx-worker.js';

const WORKER_URL = new URL('./onnx-worker.ts', import.meta.url);
/** Requests one ONNX worker may hold (the batchers in front of it are bounded far below this). */
export const MAX_PENDING_PER_WORKER = 1024;

export type OnnxChannel = WorkerChannel<unknown>;

/** A channel to one ONNX worker thread (src/models/onnx-worker.ts). */
export function onnxChannel(name: string, data: OnnxWorkerData, opts: Pick<WorkerChannelOptions<unknown>, 'onReady' | 'onExit'>): OnnxChannel {
  return new WorkerChannel({ name, maxPending: MAX_PENDING_PER_WORKER, spawn: () => threadEndpoint(startTsWorker(WORKER_URL, { workerData: data })), ...opts });
}

export const loadModel = (ch: OnnxChannel, req: Extract<WorkerRequest, { op: 'load' }>) => ch.request<LoadResult>(req);
