import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasShared, listSpeechClips } from '../../../src/training/ravdess.js';
import { loadSpeechDataset, priorStats } from '../../../src/training/speech/dataset.js';
import { runTaskPool, type PoolTask } from '../../../src/training/speech/train-pool.js';
import { meanPosteriors, memberSeed, innerSeed } from '../../../src/training/speech/cv.js';
import { DEFAULT_TRAIN_CONFIG, mixup, type TrainConfig } from '../../../src/training/speech/train.js';
import { rng } from '../../../src/training/random.js';
import type { WorkerTaskResult } from '../../../src/training/speech/train-tasks.js';
import { DEFAULT_ACTIVITY_GATE } from '../../../src/features/speaker-norm.js';

test('member and inner seeds: member 0 keeps the single-model seeds, all distinct for a 3-seed, 2-split CV', () => {
  assert.equal(memberSeed(7, 0), 7);
  assert.equal(innerSeed(7, 0, 0), 108);
  assert.equal(innerSeed(7, 0, 1), 209);
  const all = [0, 1, 2].flatMap((m) => [memberSeed(7, m), innerSeed(7, m, 0), innerSeed(7, m, 1)]);
  assert.equal(new Set(all).size, all.length);
});

test('mean posteriors of ensemble members', () => {
  const a = [Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]), Float32Array.from([0, 0, 0, 0, 0, 0, 0, 1])];
  const b = [Float32Array.from([0, 1, 0, 0, 0, 0, 0, 0]), Float32Array.from([0, 0, 0, 0, 0, 0, 0, 1])];
  const m = meanPosteriors([a, b]);
  assert.deepEqual(Array.from(m[0]), [0.5, 0.5, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(m[1]), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.throws(() => meanPosteriors([a, [a[0]]]), /different clip counts/);
});

test('mixup keeps label mass, leaves each window its own label as the majority and blends the inputs', () => {
  const n = 4, per = 6;
  const x = Float32Array.from({ length: n * per }, (_, i) => Math.floor(i / per));
  const y = new Float32Array(n * 8);
  for (let k = 0; k < n; k++) y[k * 8 + k] = 1;
  mixup(x, y, n, per, 0.4, rng(3));
  for (let k = 0; k < n; k++) {
    const row = y.subarray(k * 8, k * 8 + 8);
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-6);
    assert.ok(row[k] >= 0.5 - 1e-6, `window ${k} keeps its label as the majority`);
    const lam = row[k];
    const partner = row.findIndex((v, c) => c !== k && v > 0);
    const expected = partner < 0 ? k : lam * k + (1 - lam) * partner;
    assert.ok(Math.abs(x[k * per] - expected) < 1e-5);
  }
});

test('parallel training: results identical with 1 and 2 workers (tiny net, 45 clips, streaming task after its trainings)', { skip: hasShared() ? false : 'needs ../shared (RAVDESS)' }, async () => {
  const clips = listSpeechClips().filter((c) => [1, 2, 3].includes(c.actor) && c.statement === 1 && c.repetition === 1);
  const ds = loadSpeechDataset({ clips });
  const cfg: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 8,
    net: { ...DEFAULT_TRAIN_CONFIG.net, frames: 100, convs: [{ channels: 8, kernel: 3, pool: 2 }], attentionDim: 8 },
  };
  const idx = (actors: number[]) => ds.items.flatMap((it, i) => (actors.includes(it.actor) ? [i] : []));
  const train = (key: string, actors: number[], held: number[], seed: number): PoolTask => ({
    key, label: key, steps: 2 * Math.ceil(idx(actors).length / 8),
    build: () => ({ kind: 'train', trainIdx: idx(actors), predictIdx: idx(held), cfg: { ...cfg, seed } }),
  });
  const tasks: PoolTask[] = [
    train('a', [1, 2], [3], 5), train('b', [1, 2], [3], 6), train('c', [2, 3], [1], 7),
    {
      key: 's', label: 's', deps: ['a', 'b'], steps: 0,
      build: (deps) => ({
        kind: 'stream', itemIdx: idx([3]), net: cfg.net,
        members: ['a', 'b'].map((k) => (deps.get(k) as Extract<WorkerTaskResult, { kind: 'train' }>).weights),
        opts: { mel: ds.mel, activityGate: DEFAULT_ACTIVITY_GATE, prior: priorStats(ds.actorStats, [1, 2]), priorWeightFrames: 300, windowSamples: 16000, hopSamples: 8000, seed: 1 },
      }),
    },
  ];
  const seen: string[] = [];
  const one = await runTaskPool(ds, tasks, { jobs: 1, onTaskDone: (t) => seen.push(t.key) });
  const two = await runTaskPool(ds, tasks, { jobs: 2 });
  assert.equal(seen.indexOf('s') > seen.indexOf('b'), true, 'the streaming task ran after its dependencies');
  for (const key of ['a', 'b', 'c']) {
    const r1 = one.get(key) as Extract<WorkerTaskResult, { kind: 'train' }>, r2 = two.get(key) as Extract<WorkerTaskResult, { kind: 'train' }>;
    for (const name of Object.keys(r1.weights)) assert.deepEqual(r2.weights[name].data, r1.weights[name].data, `${key} ${name}`);
    assert.equal(r1.probs.length, idx(key === 'c' ? [1] : [3]).length);
    assert.deepEqual(r2.probs, r1.probs);
  }
  const pa = one.get('a') as Extract<WorkerTaskResult, { kind: 'train' }>, pb = one.get('b') as Extract<WorkerTaskResult, { kind: 'train' }>;
  assert.notDeepEqual(pa.weights['out.w'].data, pb.weights['out.w'].data, 'different seeds train different members');
  const s1 = one.get('s') as Extract<WorkerTaskResult, { kind: 'stream' }>, s2 = two.get('s') as Extract<WorkerTaskResult, { kind: 'stream' }>;
  assert.ok(s1.windows.length >= 8);
  assert.deepEqual(s2.windows, s1.windows);
});

test('parallel training: a failing task rejects with its label', { skip: hasShared() ? false : 'needs ../shared (RAVDESS)' }, async () => {
  const ds = loadSpeechDataset({ clips: listSpeechClips().filter((c) => c.actor === 1 && c.statement === 1 && c.repetition === 1) });
  await assert.rejects(runTaskPool(ds, [{
    key: 'bad', label: 'bad task', steps: 1,
    build: () => ({ kind: 'train', trainIdx: [999], predictIdx: [], cfg: DEFAULT_TRAIN_CONFIG }),
  }], { jobs: 1 }), /bad task: .*out of range/);
});
