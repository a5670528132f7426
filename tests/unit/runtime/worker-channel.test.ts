import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelError, WorkerChannel, type WorkerChannelOptions } from '../../../src/runtime/worker-channel.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processEndpoint, threadEndpoint } from '../../../src/runtime/endpoint.js';
import { startTsWorker } from '../../../src/runtime/ts-worker.js';
import type { ChannelTestOp } from '../../helpers/channel-worker.js';
import { until } from '../../helpers/until.js';

/** Real worker threads (tests/helpers/channel-worker.ts) behind every channel here. */
const WORKER = new URL('../../helpers/channel-worker.ts', import.meta.url);
const channels: WorkerChannel[] = [];
after(async () => { await Promise.all(channels.map((c) => c.close())); });

function channel(opts: Partial<WorkerChannelOptions<unknown>> & { workerData?: unknown } = {}): WorkerChannel {
  const c = new WorkerChannel({ name: 'test worker', maxPending: 16, spawn: () => threadEndpoint(startTsWorker(WORKER, { workerData: opts.workerData })), ...opts });
  channels.push(c);
  return c;
}
const req = <T>(c: WorkerChannel, body: ChannelTestOp, o?: Parameters<WorkerChannel['request']>[1]) => c.request<T>(body, o);
const isKind = (kind: ChannelError['kind'], text: RegExp) => (e: unknown) => e instanceof ChannelError && e.kind === kind && text.test(e.message);

test('requests are matched to their answers by id, whatever order they finish in; start() gives the init value', async () => {
  const c = channel({ workerData: { initValue: { model: 'tiny' } } });
  assert.deepEqual(await c.start(), { model: 'tiny' });
  const [slow, fast, echo] = await Promise.all([req(c, { op: 'sleep', ms: 60 }), req(c, { op: 'sleep', ms: 1 }), req(c, { op: 'echo', value: { a: [1, 2] } })]);
  assert.deepEqual([slow, fast, echo], [60, 1, { a: [1, 2] }]);
  assert.equal(c.pendingCount, 0);
});

test('a handler that throws rejects only its request, with its text and its code; the worker keeps serving', async () => {
  const c = channel();
  await assert.rejects(req(c, { op: 'throw', message: 'bad input', code: 'E_BAD' }), (e: unknown) => e instanceof ChannelError && e.kind === 'remote' && e.message === 'bad input' && e.remote?.details.code === 'E_BAD' && e.remote.details.transient === true);
  assert.equal(await req(c, { op: 'echo', value: 7 }), 7);
  assert.equal(c.crashes, 0);
});

test('transfer lists move buffers both ways instead of copying them', async () => {
  const c = channel();
  const data = Float32Array.of(1, 2, 3, 4);
  const out = await req<Float32Array>(c, { op: 'sum', data }, { transfer: [data.buffer] });
  assert.equal(data.byteLength, 0, 'the input buffer was moved to the worker');
  assert.deepEqual([...out], [10, 16]);
});

test('a request that gets no answer in time fails with a timeout; the worker stays up unless told to restart', async () => {
  const c = channel({ timeoutMs: 50 });
  await assert.rejects(req(c, { op: 'sleep', ms: 2_000 }), isKind('timeout', /test worker did not answer within 50 ms/));
  assert.equal(await req(c, { op: 'echo', value: 'still here' }, { timeoutMs: 0 }), 'still here');
  assert.equal(c.crashes, 0);

  const r = channel({ timeoutMs: 50, onTimeout: 'restart' });
  await r.start();
  const other = req(r, { op: 'sleep', ms: 5_000 }, { timeoutMs: 0 });
  await assert.rejects(req(r, { op: 'sleep', ms: 5_000 }), isKind('timeout', /within 50 ms/));
  await assert.rejects(other, isKind('exited', /restarted after not answering within 50 ms/));
  await until(() => r.alive, 'the replacement of the hung worker');
  assert.equal(r.respawns, 1);
  assert.equal(await req(r, { op: 'echo', value: 1 }), 1);
});

test('a crashing worker fails every pending request with a clear error, and is replaced (eager respawn)', async () => {
  const exits: string[] = [];
  const c = channel({ onExit: (err, inMs) => exits.push(`${err.message}; respawn in ${inMs} ms`) });
  await c.start();
  const waiting = [req(c, { op: 'sleep', ms: 5_000 }), req(c, { op: 'sleep', ms: 5_000 })];
  const crash = req(c, { op: 'crash', code: 3 });
  for (const p of [...waiting, crash]) await assert.rejects(p, isKind('exited', /test worker stopped \(exited with code 3\) with the request pending/));
  assert.equal(c.pendingCount, 0);
  assert.deepEqual(exits, ['exited with code 3; respawn in 0 ms']);
  await until(() => c.alive, 'the replacement worker');
  assert.equal(c.respawns, 1);
  assert.equal(c.crashes, 1);
  assert.equal(await req(c, { op: 'echo', value: 'back' }), 'back');
});

test('respawn backs off after consecutive crashes, and never-respawn channels stay down with a clear error', async () => {
  const delays: (number | null)[] = [];
  const c = channel({ backoffBaseMs: 40, onExit: (_e, inMs) => delays.push(inMs) });
  await c.start();
  await assert.rejects(req(c, { op: 'crash', code: 1 }), isKind('exited', /exited with code 1/));
  await until(() => c.alive, 'first replacement');
  await assert.rejects(req(c, { op: 'crash', code: 1 }), isKind('exited', /exited with code 1/));
  await until(() => c.alive, 'second replacement');
  await assert.rejects(req(c, { op: 'crash', code: 1 }), isKind('exited', /exited with code 1/));
  assert.deepEqual(delays, [0, 40, 80], 'no crash answered in between, so each waits twice as long');
  await until(() => c.alive, 'third replacement');
  await req(c, { op: 'echo', value: 0 });
  await c.kill();
  assert.deepEqual(delays.at(-1), 0, 'an answered request resets the backoff');

  const never = channel({ respawn: 'never' });
  await never.start();
  await assert.rejects(req(never, { op: 'crash', code: 2 }), isKind('exited', /exited with code 2/));
  await assert.rejects(req(never, { op: 'echo', value: 1 }), isKind('exited', /has stopped and is not restarted/));
});

test('lazy respawn starts a replacement at the next request, which waits for it', async () => {
  const c = channel({ respawn: 'lazy' });
  await c.start();
  await c.kill();
  assert.equal(c.alive, false);
  assert.equal(await req(c, { op: 'echo', value: 'lazily' }), 'lazily');
  assert.equal(c.respawns, 1);
});

test('the pending map is bounded: one request more is refused at once with a clear error, and nothing grows', async () => {
  const c = channel({ maxPending: 3 });
  await c.start();
  const held = [0, 1, 2].map(() => req(c, { op: 'sleep', ms: 100 }));
  await assert.rejects(req(c, { op: 'echo', value: 1 }), isKind('full', /test worker has 3 requests pending \(limit 3\); request refused/));
  assert.equal(c.pendingCount, 3);
  assert.deepEqual(await Promise.all(held), [100, 100, 100]);
  assert.equal(await req(c, { op: 'echo', value: 'room again' }), 'room again');
});

test('a worker whose init fails rejects start() and its queued requests with the reason; events reach onEvent', async () => {
  const c = channel({ workerData: { failInit: 'model file missing' } });
  const queued = req(c, { op: 'echo', value: 1 });
  await assert.rejects(c.start(), isKind('start', /test worker failed to start: model file missing/));
  await assert.rejects(queued, isKind('start', /model file missing/));

  const events: unknown[] = [];
  const e = channel({ onEvent: (ev) => events.push(ev) });
  assert.equal(await req(e, { op: 'progress', steps: 3 }), 3);
  assert.deepEqual(events, [{ step: 0 }, { step: 1 }, { step: 2 }]);
});

test('close fails what is pending and refuses later requests', async () => {
  const c = channel();
  await c.start();
  const failed = assert.rejects(req(c, { op: 'sleep', ms: 5_000 }), isKind('closed', /test worker closed/));
  await c.close();
  await failed;
  await assert.rejects(req(c, { op: 'echo', value: 1 }), isKind('closed', /is closed/));
  assert.equal(c.crashes, 0);
});

test('the same channel drives a forked child process: answers, a crash fails what is pending, respawn', async () => {
  const c = channel({
    name: 'test process',
    spawn: () => processEndpoint(fork(fileURLToPath(WORKER), [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: 'ignore' })),
  });
  const out = await req<Float32Array>(c, { op: 'sum', data: Float32Array.of(1, 2) });
  assert.deepEqual([...out], [3, 8], 'typed arrays survive the trip (copied: no transfer between processes)');
  await assert.rejects(req(c, { op: 'crash', code: 4 }), isKind('exited', /test process stopped \(exited with code 4\)/));
  await until(() => c.alive, 'the replacement process');
  assert.equal(await req(c, { op: 'echo', value: 'child' }), 'child');
  assert.equal(c.respawns, 1);
});
