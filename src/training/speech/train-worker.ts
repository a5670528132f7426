import { parentPort } from 'node:worker_threads';
import { initTf } from '../tf.js';
import type { NormStats } from '../../features/speaker-norm.js';
import type { SpeechItem } from './dataset.js';
import { predictClips, trainSpeechNet } from './train.js';
import { streamingWindowPredictions } from './streaming-eval.js';
import type { WorkerRequest, WorkerReply, WorkerTask, WorkerTaskResult } from './train-tasks.js';

/**
 * One training worker thread: its own TF.js wasm instance (wasm is single-threaded, so one worker = one core).
 * Receives the dataset once, then runs tasks one at a time and posts progress, results or errors back.
 */
const port = parentPort;
if (!port) throw new Error('train-worker.ts must run as a worker thread');

let items: SpeechItem[] = [];
let actorStats = new Map<number, NormStats>();
const post = (m: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function runTask(id: number, task: WorkerTask): Promise<WorkerTaskResult> {
  const tf = await initTf();
  const t0 = performance.now();
  const pick = (idx: number[]) => idx.map((i) => {
    const it = items[i];
    if (!it) throw new Error(`task ${id}: item index ${i} out of range (${items.length} items)`);
    return it;
  });
  const statsFor = (it: SpeechItem) => actorStats.get(it.actor)!;
  if (task.kind === 'train') {
    let lastPost = 0;
    const weights = await trainSpeechNet(tf, pick(task.trainIdx), actorStats, task.cfg, (p) => {
      // Throttled: the main thread only draws a progress bar from these.
      const now = performance.now();
      if (now - lastPost < 500 && p.batch + 1 < p.batches) return;
      lastPost = now;
      post({ type: 'progress', id, epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches, loss: p.loss });
    });
    const probs = task.predictIdx.length > 0 ? await predictClips(tf, weights, task.cfg.net, pick(task.predictIdx), statsFor) : [];
    return { kind: 'train', weights, probs, seconds: (performance.now() - t0) / 1000 };
  }
  const windows = await streamingWindowPredictions(tf, task.members, task.net, pick(task.itemIdx), task.opts);
  return { kind: 'stream', windows, seconds: (performance.now() - t0) / 1000 };
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'init') {
    items = msg.items;
    actorStats = new Map(msg.actorStats);
    initTf().then(() => post({ type: 'ready' }), (e: Error) => post({ type: 'error', id: -1, message: e.message, stack: e.stack }));
    return;
  }
  runTask(msg.id, msg.task).then(
    (result) => post({ type: 'done', id: msg.id, result }),
    (e: Error) => post({ type: 'error', id: msg.id, message: e.message, stack: e.stack }),
  );
});
