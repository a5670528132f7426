import type { FaceConfig } from './config.js';
import type { EngineResult } from './engine.js';

/** Messages between the main thread (FaceWorkerClient) and the face worker thread. */
export type ToWorker =
  | { type: 'analyze'; id: number; streamId: string; format: 'jpeg' | 'i420' | 'rgba'; width: number; height: number; ptsUs: number; payload: Uint8Array }
  | { type: 'reset'; streamId: string }
  | { type: 'close'; streamId: string };

export type FromWorker =
  | { type: 'ready'; backend: string; modelDir: string; loadMs: number }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; result: EngineResult }
  | { type: 'error'; id: number; code: string; message: string };

export interface WorkerInit {
  config: FaceConfig;
  modelDir: string;
}
