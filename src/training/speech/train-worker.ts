import { workerData } from 'node:worker_threads';
import { serve, type ServeContext } from '../../runtime/serve.js';
import { initTf } from '../tf.js';
import type { NormStats } from '../../features/speaker-norm.js';
import type { SpeechItem } from './dataset.js';
import { predictClips, trainSpeechNet } from './train.js';
import { streamingWindowPredictions } from './streaming-eval.js';
import type { WorkerInit, WorkerProgress, WorkerRequest, WorkerTaskResult } from './train-tasks.js';

/**
 * One training worker thread: its own TF.js wasm instance (wasm is single-threaded, so one worker = one core).
 * Starts with the dataset (workerData), then runs tasks one at a time, emitting progress as it goes.
 */
let items: SpeechItem[] = [];
let actorStats = new Map<number, NormStats>();

async function runTask({ id, task }: WorkerRequest, ctx: ServeContext): Promise<WorkerTaskResult> {
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
      ctx.emit({ type: 'progress', id, epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches, loss: p.loss } satisfies WorkerProgress);
    });
    const probs = task.predictIdx.length > 0 ? await predictClips(tf, weights, task.cfg.net, pick(task.predictIdx), statsFor) : [];
    return { kind: 'train', weights, probs, seconds: (performance.now() - t0) / 1000 };
  }
  const windows = await streamingWindowPredictions(tf, task.members, task.net, pick(task.itemIdx), task.opts);
  return { kind: 'stream', windows, seconds: (performance.now() - t0) / 1000 };
}

serve<WorkerRequest>({
  init: async () => {
    const init = workerData as WorkerInit;
    items = init.items;
    actorStats = new Map(init.actorStats);
    await initTf();
  },
  handle: runTask,
});
