import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynamicBatcher, type BatcherOptions } from '../../../src/models/batcher.js';
import { WindowDroppedError } from '../../../src/models/infer-outcome.js';
import { oneHot } from '../../helpers/synthetic.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function make(opts: Partial<BatcherOptions> = {}, delayMs = 0) {
  const calls: number[][] = [];
  const sizes: number[] = [];
  const b = new DynamicBatcher<number>(async (ws) => {
    calls.push([...ws]);
    await sleep(delayMs);
    if (ws.includes(-1)) throw new Error('malformed window -1');
    return ws.map((w) => oneHot(w % 8));
  }, { name: 'm', maxBatch: 4, maxDelayMs: 5, maxQueue: 16, maxInFlight: 1, onBatch: (n) => sizes.push(n), ...opts });
  return { b, calls, sizes };
}

test('windows submitted together go as one batch; each gets its own posterior back', async () => {
  const { b, calls } = make();
  const out = await Promise.all([0, 1, 2].map((w) => b.submit(w)));
  assert.deepEqual(calls, [[0, 1, 2]]);
  out.forEach((o, i) => {
    assert.equal(o.probs[i], 1);
    assert.equal(o.batchSize, 3);
    assert.ok(o.queueMs >= 0 && o.inferMs >= 0);
  });
});

test('maxBatch splits, and windows collect while a batch is in flight', async () => {
  const { b, calls } = make({ maxDelayMs: 0 }, 100);
  const first = b.submit(100);
  await sleep(2);
  const rest = [1, 2, 3, 4, 5, 6].map((w) => b.submit(w));
  await Promise.all([first, ...rest]);
  assert.deepEqual(calls, [[100], [1, 2, 3, 4], [5, 6]]);
});

test('maxDelayMs bounds the wait of a lone window', async () => {
  const { b } = make({ maxDelayMs: 15 });
  const t0 = performance.now();
  const o = await b.submit(3);
  const waited = performance.now() - t0;
  assert.ok(waited >= 14 && o.queueMs >= 14, `waited ${waited} ms`);
});

test('one malformed window fails alone; the rest of its batch succeeds', async () => {
  const errors: string[] = [];
  const { b, calls } = make({ onWindowError: (e) => errors.push(e.message) });
  const res = await Promise.allSettled([1, -1, 2].map((w) => b.submit(w)));
  assert.equal(res[0].status, 'fulfilled');
  assert.equal(res[1].status, 'rejected');
  assert.equal(res[2].status, 'fulfilled');
  assert.deepEqual(calls, [[1, -1, 2], [1], [-1], [2]]);
  assert.equal(errors.length, 1);
  assert.equal(b.stats().retries, 1);
});

test('a malformed posterior (wrong length) fails only its window', async () => {
  const b = new DynamicBatcher<number>(async (ws) => ws.map((w) => (w === 0 ? new Float32Array(3) : oneHot(1))), { name: 'm', maxBatch: 8, maxDelayMs: 1, maxQueue: 8, maxInFlight: 1 });
  const res = await Promise.allSettled([0, 1].map((w) => b.submit(w)));
  assert.deepEqual(res.map((r) => r.status), ['rejected', 'fulfilled']);
});

test('bounded queue drops the oldest window with WindowDroppedError and counts it', async () => {
  let dropped = 0;
  const { b } = make({ maxQueue: 2, maxBatch: 1, maxDelayMs: 0, onDrop: (n) => { dropped += n; } }, 10);
  const ps = [1, 2, 3, 4, 5].map((w) => b.submit(w));
  const res = await Promise.allSettled(ps);
  const rejected = res.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.equal(rejected.length, 2);
  assert.ok(rejected.every((r) => r.reason instanceof WindowDroppedError));
  assert.equal(res[0].status, 'fulfilled', 'the one already in flight finishes');
  assert.equal(res[4].status, 'fulfilled', 'the newest survives');
  assert.equal(dropped, 2);
  assert.equal(b.stats().dropped, 2);
});

test('batching off (maxBatch 1) makes one call per window', async () => {
  const { b, calls } = make({ maxBatch: 1, maxDelayMs: 0 });
  await Promise.all([1, 2, 3].map((w) => b.submit(w)));
  assert.deepEqual(calls, [[1], [2], [3]]);
});

test('a hung model call times out: its windows fail, the slot is freed and later windows are served', async () => {
  let hang = true;
  const b = new DynamicBatcher<number>(async (ws) => {
    if (hang) return new Promise<Float32Array[]>(() => undefined);
    return ws.map(() => oneHot(0));
  }, { name: 'm', maxBatch: 4, maxDelayMs: 0, maxQueue: 8, maxInFlight: 1, timeoutMs: 30 });
  await assert.rejects(b.submit(1), /did not finish in 30 ms/);
  hang = false;
  const ok = await b.submit(2);
  assert.equal(ok.probs[0], 1);
});
