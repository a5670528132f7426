import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The one worker bootstrap: starts a worker thread on a TypeScript module. Node 20 cannot start a .ts file directly,
 * and a worker thread does not inherit the parent's tsx registration, so the worker first registers tsx's loader and
 * then imports the module. Every worker of the server (ONNX, WebGPU, feature, face, SQLite, training) starts here.
 */
export function startTsWorker(moduleUrl: URL, options: Pick<WorkerOptions, 'workerData' | 'resourceLimits' | 'name'> = {}): Worker {
  const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
