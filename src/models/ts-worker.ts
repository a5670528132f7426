import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a TypeScript module. Node 20 cannot start a .ts file directly, so the worker first
 * registers tsx's loader and then imports the module; used by every worker pool (ONNX, feature, training).
 */
export function startTsWorker(moduleUrl: URL, options: Pick<WorkerOptions, 'workerData'> = {}): Worker {
  const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
