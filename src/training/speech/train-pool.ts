import { threadEndpoint } from '../../runtime/endpoint.js';
import { startTsWorker } from '../../runtime/ts-worker.js';
import { ChannelError, WorkerChannel } from '../../runtime/worker-channel.js';
import type { SpeechDataset } from './dataset.js';
import type { WorkerInit, WorkerProgress, WorkerRequest, WorkerTask, WorkerTaskResult } from './train-tasks.js';

const WORKER_URL = new URL('./train-worker.ts', import.meta.url);

export interface PoolTask {
  /** Unique key; `deps` name other tasks' keys. */
  key: string;
  /** Human-readable name for progress lines ("fold 2 inner 1/2 seed 8"). */
  label: string;
  deps?: string[];
  /** Progress weight: training batches (epochs x batches per epoch); 0 for evaluation tasks. */
  steps: number;
  /** Builds the worker's task once the dependencies are done (their results by key). */
  build: (deps: Map<string, WorkerTaskResult>) => WorkerTask;
}

export interface PoolProgress {
  doneSteps: number;
  totalSteps: number;
  tasksDone: number;
  tasks: number;
  /** One line per busy worker: task label, epoch. */
  running: string[];
}

export interface PoolOptions {
  /** Worker threads (each one TF.js wasm instance on one core). */
  jobs: number;
  onProgress?: (p: PoolProgress) => void;
  onTaskDone?: (task: PoolTask, result: WorkerTaskResult, p: PoolProgress) => void;
}

interface Slot {
  channel: WorkerChannel;
  task: PoolTask | null;
  id: number;
  steps: number;
  epoch: string;
  /** The worker has loaded the dataset; a task sent before that would be answered after it, but is not sent. */
  ready: boolean;
}

/**
 * Runs tasks on `jobs` worker threads, each task on whichever worker is free, in list order among the tasks whose
 * dependencies are done. Every task carries its own seed, so results do not depend on `jobs` or on which worker ran
 * what. Rejects on the first failed task (and stops every worker).
 */
export async function runTaskPool(ds: SpeechDataset, tasks: PoolTask[], opts: PoolOptions): Promise<Map<string, WorkerTaskResult>> {
  const keys = new Set(tasks.map((t) => t.key));
  if (keys.size !== tasks.length) throw new Error('runTaskPool: duplicate task keys');
  for (const t of tasks) for (const d of t.deps ?? []) if (!keys.has(d)) throw new Error(`runTaskPool: task '${t.key}' depends on unknown '${d}'`);
  const results = new Map<string, WorkerTaskResult>();
  if (tasks.length === 0) return results;
  const jobs = Math.max(1, Math.min(Math.floor(opts.jobs), tasks.length));
  const pending = [...tasks];
  const totalSteps = tasks.reduce((s, t) => s + t.steps, 0);
  let doneSteps = 0;
  let nextId = 1;
  const init: WorkerInit = { items: ds.items, actorStats: [...ds.actorStats.entries()] };
  const slots: Slot[] = [];

  const progress = (): PoolProgress => ({
    doneSteps: doneSteps + slots.reduce((s, x) => s + (x.task ? Math.min(x.steps, x.task.steps) : 0), 0),
    totalSteps, tasksDone: results.size, tasks: tasks.length,
    running: slots.filter((x) => x.task).map((x) => `${x.task!.label}${x.epoch ? ` ${x.epoch}` : ''}`),
  });

  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error) => { if (!failed) { failed = true; reject(e); } };
      const dispatch = (slot: Slot) => {
        if (failed || !slot.ready || slot.task) return;
        const i = pending.findIndex((t) => (t.deps ?? []).every((d) => results.has(d)));
        if (i < 0) {
          if (results.size === tasks.length) resolve();
          else if (pending.length > 0 && slots.every((s) => !s.task)) fail(new Error('runTaskPool: no task can start (dependency cycle)'));
          return;
        }
        const [task] = pending.splice(i, 1);
        slot.task = task; slot.id = nextId++; slot.steps = 0; slot.epoch = '';
        let work: WorkerTask;
        try {
          work = task.build(new Map((task.deps ?? []).map((d) => [d, results.get(d)!])));
        } catch (e) {
          fail(e as Error);
          return;
        }
        slot.channel.request<WorkerTaskResult>({ id: slot.id, task: work } satisfies WorkerRequest).then((result) => {
          results.set(task.key, result);
          doneSteps += task.steps;
          slot.task = null;
          opts.onTaskDone?.(task, result, progress());
          // A freed dependency may let other idle workers start too.
          for (const s of [slot, ...slots.filter((x) => x !== slot)]) dispatch(s);
          if (results.size === tasks.length) resolve();
        }, (e: Error) => {
          const stack = e instanceof ChannelError ? e.remote?.stack : undefined;
          fail(new Error(`${task.label}: ${e.message}${stack ? `\n${stack}` : ''}`, { cause: e }));
        });
        opts.onProgress?.(progress());
      };
      for (let w = 0; w < jobs; w++) {
        // One task at a time per worker; a worker that dies fails the whole run (no respawn: the run is deterministic).
        const channel = new WorkerChannel({
          name: `training worker ${w}`,
          maxPending: 1,
          respawn: 'never',
          spawn: () => threadEndpoint(startTsWorker(WORKER_URL, { workerData: init })),
          onExit: (err) => fail(new Error(`training worker ${w} ${err.message}`)),
          onEvent: (ev) => {
            const m = ev as WorkerProgress;
            if (!slot.task || m.id !== slot.id) return;
            slot.steps = m.epoch * m.batches + m.batch + 1;
            slot.epoch = `epoch ${m.epoch + 1}/${m.epochs}`;
            opts.onProgress?.(progress());
          },
        });
        const slot: Slot = { channel, task: null, id: 0, steps: 0, epoch: '', ready: false };
        slots.push(slot);
        slot.channel.start().then(() => {
          slot.ready = true;
          dispatch(slot);
        }, (e: Error) => fail(new Error(`training worker ${w}: ${e.message}`, { cause: e })));
      }
    });
    return results;
  } finally {
    await Promise.all(slots.map((s) => s.channel.close()));
  }
}
