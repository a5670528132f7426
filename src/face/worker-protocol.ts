import type { FaceConfig } from './config.js';

/**
 * Messages from the main thread (FaceWorkerClient) to the face worker thread, over a WorkerChannel
 * (src/runtime/worker-channel.ts): `analyze` is a request answered with an EngineResult or an error carrying its
 * FaceErrorCode; `reset` and `close` are one-way notes.
 */
export type ToWorker =
  | { type: 'analyze'; streamId: string; format: 'jpeg' | 'i420' | 'rgba'; width: number; height: number; ptsUs: number; payload: Uint8Array }
  | { type: 'reset'; streamId: string }
  | { type: 'close'; streamId: string };

/** What a started worker reports (the channel's start() value). */
export interface WorkerReady { backend: string; modelDir: string; loadMs: number }

export interface WorkerInit {
  config: FaceConfig;
  modelDir: string;
}
