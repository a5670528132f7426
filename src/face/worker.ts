import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { workerData } from 'node:worker_threads';
import { serve, type ServeContext } from '../runtime/serve.js';
import { FaceEngine, type EngineResult } from './engine.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import { FaceModels } from './face-models.js';
import type { ToWorker, WorkerInit, WorkerReady } from './worker-protocol.js';

/**
 * The face worker thread: owns its own TensorFlow.js (wasm backend, global per thread) and the models, so the
 * server's event loop never waits for a detector pass.
 */
const init = workerData as WorkerInit;
let engine: FaceEngine | null = null;

async function start(): Promise<WorkerReady> {
  const t0 = performance.now();
  const require = createRequire(import.meta.url);
  setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to initialise');
  await tf.ready();
  const models = await FaceModels.load(tf, init.modelDir, init.config.expression);
  await models.warmup();
  engine = new FaceEngine(tf, models, init.config);
  return { backend: tf.getBackend(), modelDir: init.modelDir, loadMs: performance.now() - t0 };
}

type AnalyzeMsg = Extract<ToWorker, { type: 'analyze' }> & { done: (r: EngineResult | Error) => void };

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
    batch.forEach((m, i) => m.done(results[i]));
  }
  running = false;
}

/** A frame's answer: its result (meshes moved, not copied) or its error, whose `code` crosses over. */
function analyze(msg: Extract<ToWorker, { type: 'analyze' }>, ctx: ServeContext): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    waiting.push({ ...msg, done: (r) => {
      if (r instanceof Error) return reject(r instanceof ProtocolError ? r : new ProtocolError('EMO_ERR_VIDEO_INTERNAL', r.message, { cause: r }));
      ctx.transfer(...r.faces.map((f) => f.mesh.buffer as ArrayBuffer));
      resolve(r);
    } });
    void pump(engine!);
  });
}

serve<ToWorker>({
  init: start,
  handle: (msg, ctx) => {
    if (msg.type === 'analyze') return analyze(msg, ctx);
    if (msg.type === 'reset') engine!.resetStream(msg.streamId);
    else engine!.closeStream(msg.streamId);
    return null;
  },
});
