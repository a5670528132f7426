import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { FaceEngine } from './engine.js';
import { isFaceFrameError } from './errors.js';
import { FaceModels } from './face-models.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

/**
 * The face worker thread: owns its own TensorFlow.js (wasm backend, global per thread) and the models, so the
 * server's event loop never waits for a detector pass. Frames are processed one at a time in arrival order.
 */
const port = parentPort;
if (!port) throw new Error('src/face/worker.ts must run as a worker thread');
const init = workerData as WorkerInit;
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

async function start(): Promise<FaceEngine> {
  const t0 = performance.now();
  const require = createRequire(import.meta.url);
  setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to initialise');
  await tf.ready();
  const models = await FaceModels.load(tf, init.modelDir, init.config.expression);
  const engine = new FaceEngine(tf, models, init.config);
  send({ type: 'ready', backend: tf.getBackend(), modelDir: init.modelDir, loadMs: performance.now() - t0 });
  return engine;
}

let queue: Promise<unknown> = Promise.resolve();

start().then(
  (engine) => {
    port.on('message', (msg: ToWorker) => {
      if (msg.type === 'reset') engine.resetStream(msg.streamId);
      else if (msg.type === 'close') engine.closeStream(msg.streamId);
      else if (msg.type === 'analyze') {
        // Serialise frames: tfjs wasm is single-threaded here and interleaving would only add latency to all of them.
        queue = queue.then(async () => {
          try {
            const result = await engine.analyze(msg.streamId, { format: msg.format, width: msg.width, height: msg.height, ptsUs: msg.ptsUs, payload: msg.payload });
            send({ type: 'result', id: msg.id, result }, result.faces.map((f) => f.mesh.buffer as ArrayBuffer));
          } catch (err) {
            const code = isFaceFrameError(err) ? err.code : 'EMO_ERR_VIDEO_INTERNAL';
            send({ type: 'error', id: msg.id, code, message: (err as Error).message ?? String(err) });
          }
        });
      }
    });
  },
  (err: unknown) => send({ type: 'init-error', message: err instanceof Error ? err.message : String(err) }),
);
