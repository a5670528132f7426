import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardBus } from '../../src/server/shard-bus.js';

const name = () => `test-bus-${Math.random()}`;

test('ShardBus ask: every other loop answers, nulls are dropped, resolves as soon as all replied', async () => {
  const busName = name();
  const buses = [0, 1, 2].map((index) => new ShardBus({ index, count: 3, busName }));
  try {
    buses[1].answer('has', (id) => (id === 'x' ? 'loop1' : null));
    buses[2].answer('has', async () => null);
    const t0 = performance.now();
    assert.deepEqual(await buses[0].ask<string>('has', 'x', 5000), ['loop1']);
    assert.deepEqual(await buses[0].ask<string>('has', 'y', 5000), []);
    assert.ok(performance.now() - t0 < 1000, 'no time-out waited');
    // A kind nobody answers still gets one (null) reply from each loop.
    assert.deepEqual(await buses[0].ask('unknown-kind', null, 5000), []);
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
