import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusCore, type Envelope } from '../../../src/cluster/bus.js';
import { HostPrimaryBus } from '../../../src/cluster/host-bus.js';

/** BusCore over a map of nodes in this process: the carrier is trivial, the ask/answer/note logic is the real one. */
class LocalBus extends BusCore {
  constructor(id: string, private readonly net: Map<string, LocalBus>) {
    super(id, 'g');
    net.set(id, this);
  }
  protected deliver(to: string, env: Envelope): void {
    const peer = this.net.get(to);
    if (peer) setImmediate(() => peer.receive(env));
  }
  gone(id: string): void {
    this.nodeGone(id);
  }
  close(): void {
    this.stopAsking();
  }
}

// The time-out is effectively infinite (24 days): the asks can only resolve because every node replied, so the
// test shows the early resolve without a wall-clock bound (a regression hangs until the test's own time-out).
const NEVER_MS = 2 ** 31 - 1;

test('bus ask: every asked node answers, nulls are dropped, resolves as soon as all replied', { timeout: 60_000 }, async () => {
  const net = new Map<string, LocalBus>();
  const [a, b, c] = ['a', 'b', 'c'].map((id) => new LocalBus(id, net));
  b.answer('has', (id) => (id === 'x' ? 'at-b' : null));
  c.answer('has', async () => null);
  assert.deepEqual(await a.ask<string>(['b', 'c'], 'has', 'x', NEVER_MS), ['at-b']);
  assert.deepEqual(await a.ask<string>(['b', 'c'], 'has', 'y', NEVER_MS), []);
  // A kind nobody answers still gets one (null) reply from each node; asking only oneself asks nobody.
  assert.deepEqual(await a.ask(['b', 'c'], 'unknown-kind', null, NEVER_MS), []);
  assert.deepEqual(await a.ask(['a'], 'has', 'x', NEVER_MS), []);
  const got = new Promise<[unknown, string]>((resolve) => c.on('hello', (body, from) => resolve([body, from])));
  a.send('c', 'hello', { n: 1 });
  assert.deepEqual(await got, [{ n: 1 }, 'a']);
});

test('bus ask: a node that never replies costs the time-out; a node that is gone stops the wait at once', { timeout: 60_000 }, async () => {
  const net = new Map<string, LocalBus>();
  const a = new LocalBus('a', net);
  const b = new LocalBus('b', net);
  b.answer('has', () => 'b');
  const t0 = performance.now();
  // 'silent' is asked but does not exist.
  assert.deepEqual(await a.ask<string>(['b', 'silent'], 'has', 'x', 150), ['b']);
  assert.ok(performance.now() - t0 >= 140, 'waited for the silent node until the time-out');
  const gone: string[] = [];
  a.onNodeGone((id) => gone.push(id));
  const pending = a.ask<string>(['b', 'silent'], 'has', 'x', NEVER_MS);
  a.gone('silent');
  assert.deepEqual(await pending, ['b']);
  assert.deepEqual(gone, ['silent']);
  a.close();
  assert.deepEqual(await a.ask(['b'], 'has', 'x', 5000), [], 'after close an ask answers at once with nothing');
});

test('host directory: a claim is atomic, the second node is refused, release frees the id only for its holder', async () => {
  const bus = new HostPrimaryBus('h/0', 'h');
  assert.equal(await bus.claim('room', 'alice'), true);
  assert.deepEqual(await bus.locate('room'), { node: 'h/0', owner: 'alice' });
  assert.equal(await bus.locate('nope'), null);
  assert.deepEqual((await bus.nodes()).map((n) => n.id), ['h/0']);
  bus.setStatus({ sessions: 3, draining: true });
  assert.deepEqual(await bus.nodes(), [{ id: 'h/0', group: 'h', sessions: 3, draining: true }]);
  bus.release('room');
  assert.equal(await bus.locate('room'), null);
  await bus.close();
});
