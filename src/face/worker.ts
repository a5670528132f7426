import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { FaceEngine, type EngineResult } from './engine.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import { FaceModels } from './face-models.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

/**
 * The face worker thread: owns its own TensorFlow.js (wasm backend, global per thread) and the models, so the
 * server's event loop never waits for a detector pass.
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
  await models.warmup();
  const engine = new FaceEngine(tf, models, init.config);
  send({ type: 'ready', backend: tf.getBackend(), modelDir: init.modelDir, loadMs: performance.now() - t0 });
  return engine;
}

type AnalyzeMsg = Extract<ToWorker, { type: 'analyze' }>;

/**
 * Frames wait here while a pass runs; each pass takes the oldest waiting frame of every stream (up to
 * maxBatchFrames) and analyses them together, so under load several sessions share one batched FaceMesh call, and
 * at low load a frame is analysed alone as soon as it arrives.
 */
const waiting: AnalyzeMsg[] = [];
let running = false;

async function pump(engine: FaceEngine): Promise<void> {
  if (running) return;
  running = true;
  while (waiting.length > 0) {
    const batch: AnalyzeMsg[] = [];
    const streams = new Set<string>();
    for (let i = 0; i < waiting.length && batch.length < init.config.maxBatchFrames; ) {
      if (streams.has(waiting[i].streamId)) {
        i++;
        continue;
      }
      streams.add(waiting[i].streamId);
      batch.push(...waiting.splice(i, 1));
    }
    let results: (EngineResult | Error)[];
    try {
      results = await engine.analyzeBatch(batch.map((m) => ({ streamId: m.streamId, frame: { format: m.format, width: m.width, height: m.height, ptsUs: m.ptsUs, payload: m.payload } })));
    } catch (err) {
      results = batch.map(() => (err instanceof Error ? err : new Error(String(err))));
    }
    batch.forEach((m, i) => {
      const r = results[i];
      if (r instanceof Error) send({ type: 'error', id: m.id, code: r instanceof ProtocolError ? r.code : 'EMO_ERR_VIDEO_INTERNAL', message: r.message });
      else send({ type: 'result', id: m.id, result: r }, r.faces.map((f) => f.mesh.buffer as ArrayBuffer));
    });
  }
  running = false;
}

start().then(
  (engine) => {
    port.on('message', (msg: ToWorker) => {
      if (msg.type === 'reset') engine.resetStream(msg.streamId);
      else if (msg.type === 'close') engine.closeStream(msg.streamId);
      else if (msg.type === 'analyze') {
        waiting.push(msg);
        void pump(engine);
      }
    });
  },
  (err: unknown) => send({ type: 'init-error', message: err instanceof Error ? err.message : String(err) }),
);
