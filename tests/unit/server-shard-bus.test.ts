import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardBus } from '../../src/server/shard-bus.js';
import { SubscriberHub } from '../../src/server/subscribers.js';
import { createMetrics } from '../../src/server/metrics.js';
import { ERROR_CATALOGUE } from '../../src/protocol/v1/errors.js';

const name = () => `test-bus-${Math.random()}`;

// The time-out is effectively infinite (24 days): the asks can only resolve because every loop replied, so the
// test shows the early resolve without a wall-clock bound (a regression hangs until the test's own time-out).
const NEVER_MS = 2 ** 31 - 1;

test('ShardBus ask: every other loop answers, nulls are dropped, resolves as soon as all replied', { timeout: 60_000 }, async () => {
  const busName = name();
  const buses = [0, 1, 2].map((index) => new ShardBus({ index, count: 3, busName }));
  try {
    buses[1].answer('has', (id) => (id === 'x' ? 'loop1' : null));
    buses[2].answer('has', async () => null);
    assert.deepEqual(await buses[0].ask<string>('has', 'x', NEVER_MS), ['loop1']);
    assert.deepEqual(await buses[0].ask<string>('has', 'y', NEVER_MS), []);
    // A kind nobody answers still gets one (null) reply from each loop.
    assert.deepEqual(await buses[0].ask('unknown-kind', null, NEVER_MS), []);
  } finally {
    for (const b of buses) b.close();
  }
});

test('ShardBus ask: a loop that never replies costs the time-out, not a hang; notes reach every other loop', async () => {
  const busName = name();
  // count 3 but only two buses exist: the third loop never replies.
  const a = new ShardBus({ index: 0, count: 3, busName });
  const b = new ShardBus({ index: 1, count: 3, busName });
  try {
    b.answer('has', () => 'b');
    const t0 = performance.now();
    assert.deepEqual(await a.ask<string>('has', 'x', 150), ['b']);
    assert.ok(performance.now() - t0 >= 140, 'waited for the silent loop until the time-out');
    // The channel is unref'd (a server's sockets keep its loop alive): hold this test's loop open meanwhile.
    const keepAlive = setInterval(() => undefined, 1000);
    const got = new Promise<[unknown, number]>((resolve) => b.onNote('hello', (body, from) => resolve([body, from])));
    a.note('hello', { n: 1 });
    assert.deepEqual(await got, [{ n: 1 }, 0]);
    clearInterval(keepAlive);
  } finally {
    a.close();
    b.close();
  }
  // After close, asking answers at once with nothing.
  assert.deepEqual(await a.ask('has', 'x', 5000), []);
});

test('SubscriberHub: when a loop dies, its sessions\' subscribers on this loop get EMO_ERR_SESSION_LOST and end; others stay', () => {
  const conn = () => {
    const sent: string[] = [];
    const c = { sent, closedWith: null as number | null, send: (m: string) => { sent.push(m); return true; }, bufferedBytes: () => 0, close: (code: number) => { c.closedWith = code; }, remoteAddress: '' };
    return c;
  };
  const hub = new SubscriberHub(1 << 20, createMetrics());
  const a = conn();
  const b = conn();
  hub.addRemote('s-on-1', a, 1);
  hub.addRemote('s-on-2', b, 2);
  hub.loopGone(1);
  assert.deepEqual(a.sent.map((m) => (JSON.parse(m) as { type: string; code?: string }).code ?? (JSON.parse(m) as { type: string }).type), ['EMO_ERR_SESSION_LOST', 'end']);
  assert.equal(a.closedWith, ERROR_CATALOGUE.EMO_ERR_SESSION_LOST.closeCode);
  assert.equal(hub.count('s-on-1'), 0);
  assert.deepEqual(b.sent, []);
  assert.equal(b.closedWith, null);
  assert.equal(hub.count('s-on-2'), 1);
});
