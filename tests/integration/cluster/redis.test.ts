import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import pino from 'pino';
import { EmoStreamClient, EmoSubscriber, type ServerMessage } from '../../../clients/node/index.js';
import { replay } from '../../../clients/node/replay.js';
import { RedisBus } from '../../../src/cluster/redis-bus.js';
import { readWavS16 } from '../../../bench/wav.js';
import { clusterSkip, removeDir, startHaproxy, startNode, startRedis } from '../../helpers/cluster.js';
import { freePort } from '../../helpers/postgres.js';
import { until } from '../../helpers/until.js';

const WAV = readWavS16('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav');
const CHUNKS = Array.from({ length: Math.ceil(WAV.samples.length / 320) }, (_, k) => WAV.samples.subarray(k * 320, (k + 1) * 320));
/** The clip over and over (about 50 s): a session that is still streaming when its node is killed. */
const LONG = Array.from({ length: 20 }, () => CHUNKS).flat();
const skip = clusterSkip();
/** The contract: a dead node's sessions' subscribers elsewhere hear it within 5 s; slack for a busy machine. */
const SESSION_LOST_CONTRACT_MS = 5000;
const SLACK_MS = 5000;

/** Every message of a subscriber, collected while it runs. */
function collect(sub: EmoSubscriber): { msgs: ServerMessage[]; done: Promise<void> } {
  const msgs: ServerMessage[] = [];
  const done = (async () => { for await (const m of sub.messages()) msgs.push(m); })();
  return { msgs, done };
}

test('Redis + HAProxy: a session through the balancer, followed from the other node; its node SIGKILLed: EMO_ERR_SESSION_LOST within 5 s; Redis restarted: new sessions and cross-node subscribers work', { skip, timeout: 300_000 }, async (t) => {
  const redis = await startRedis();
  const env = (id: string) => ({ EMOSTREAM_REDIS_URL: redis.url, EMOSTREAM_NODE_ID: id });
  const [a, b] = await Promise.all([startNode(env('node-a')), startNode(env('node-b'))]);
  const lb = await startHaproxy([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
  const peek = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  peek.on('error', () => undefined);
  let c: Awaited<ReturnType<typeof startNode>> | null = null;
  try {
    await peek.connect();
    const health = (await (await fetch(`http://127.0.0.1:${lb.port}/healthz`)).json()) as { cluster: { nodes: number } };
    assert.equal(health.cluster.nodes, 2, '/healthz sees both nodes of the cluster');
    const client = await EmoStreamClient.connect({ url: `ws://127.0.0.1:${lb.port}` });
    const entry = JSON.parse((await peek.get(`emostream:session:${client.sessionId}`)) ?? 'null') as { node: string } | null;
    assert.ok(entry && (entry.node === 'node-a' || entry.node === 'node-b'), `directory entry ${JSON.stringify(entry)}`);
    const [owner, other] = entry.node === 'node-a' ? [a, b] : [b, a];
    const streaming = replay(client, LONG, { realtime: true }).catch(() => null);
    // Straight to the node that does not hold the session.
    const sub = await EmoSubscriber.connect(`ws://127.0.0.1:${other.port}`, client.sessionId);
    const seen = collect(sub);
    await until(() => seen.msgs.filter((m) => m.type === 'emotion').length >= 2, 'results on the other node', 60_000);
    assert.equal(seen.msgs[0].type, 'subscribed');
    const result = seen.msgs.find((m) => m.type === 'emotion') as { sessionId: string; speech: unknown };
    assert.equal(result.sessionId, client.sessionId);

    const killedAt = Date.now();
    await owner.kill('SIGKILL');
    await seen.done;
    const lostAfterMs = Date.now() - killedAt;
    const err = seen.msgs.find((m) => m.type === 'error') as { code: string } | undefined;
    assert.equal(err?.code, 'EMO_ERR_SESSION_LOST', JSON.stringify(seen.msgs.slice(-3)));
    assert.equal((await sub.closed()).code, 4022);
    assert.ok(lostAfterMs < SESSION_LOST_CONTRACT_MS + SLACK_MS, `subscriber told after ${lostAfterMs} ms`);
    t.diagnostic(`subscriber told EMO_ERR_SESSION_LOST ${lostAfterMs} ms after its session's node was SIGKILLed`);
    await streaming;

    // Redis restarts empty. The surviving node says so once, keeps serving and re-registers when it is back.
    await redis.kill('SIGTERM');
    await until(() => other.output().includes('Redis unreachable'), 'the node logs that Redis is down', 30_000);
    const restarted = await startRedis(redis.port);
    try {
      await until(() => other.output().includes('Redis reachable again'), 'the node reconnects', 60_000);
      assert.equal(other.output().split('Redis unreachable').length - 1, 1, 'one clear log line while Redis was down');
      // A new node joins after the restart; a session through the balancer (on the surviving node) is followed from it.
      c = await startNode(env('node-c'));
      const fresh = await EmoStreamClient.connect({ url: `ws://127.0.0.1:${lb.port}` });
      const follower = await EmoSubscriber.connect(`ws://127.0.0.1:${c.port}`, fresh.sessionId);
      const followed = collect(follower);
      await until(() => followed.msgs.length > 0, 'subscribed on the new node', 30_000);
      assert.equal(followed.msgs[0].type, 'subscribed', JSON.stringify(followed.msgs[0]));
      const run = await replay(fresh, CHUNKS, { realtime: false });
      await followed.done;
      assert.ok(run.results.length >= 3, `${run.results.length} results`);
      assert.deepEqual(followed.msgs.filter((m) => m.type === 'emotion').map((m) => (m as { hop: number }).hop), run.results.map((r) => r.hop));
      assert.equal(followed.msgs.at(-1)?.type, 'end');
    } finally {
      await restarted.kill('SIGKILL');
      removeDir(restarted.dir);
    }
  } finally {
    peek.disconnect();
    await Promise.all([a.kill('SIGKILL'), b.kill('SIGKILL'), lb.kill('SIGKILL'), c?.kill('SIGKILL'), redis.kill('SIGKILL')]);
    removeDir(redis.dir);
  }
});

test('Redis directory: of two nodes claiming one session id the second is refused; release frees it; nodes see each other', { skip, timeout: 60_000 }, async () => {
  const redis = await startRedis();
  const log = pino({ level: 'silent' });
  const opts = { url: redis.url, group: 'g', heartbeatMs: 200, nodeTtlMs: 1000, maxPendingPublishes: 100, connectTimeoutMs: 5000, log };
  const x = await RedisBus.start({ ...opts, nodeId: 'x' });
  const y = await RedisBus.start({ ...opts, nodeId: 'y' });
  try {
    assert.equal(await x.claim('room', 'alice'), true);
    assert.equal(await y.claim('room', 'bob'), false, 'SET NX: the second claimant is refused');
    assert.deepEqual(await y.locate('room'), { node: 'x', owner: 'alice' });
    x.release('room');
    await until(async () => (await y.locate('room')) === null, 'released');
    assert.equal(await y.claim('room', 'bob'), true);
    assert.deepEqual(await x.locate('room'), { node: 'y', owner: 'bob' });
    assert.deepEqual((await x.nodes()).map((n) => n.id).sort(), ['x', 'y']);
    // Messages and questions between nodes.
    y.answer('ping', (body) => `pong ${String(body)}`);
    assert.deepEqual(await x.ask(['y'], 'ping', 1, 5000), ['pong 1']);
    // y leaves (deregisters): x hears it is gone at its next heartbeat (a SIGKILLed node: after the TTL, test above).
    const gone = new Promise<string>((resolve) => x.onNodeGone(resolve));
    await y.close();
    assert.equal(await gone, 'y');
    assert.equal(await x.locate('room'), null, 'its sessions left the directory with it');
  } finally {
    await x.close();
    await y.close();
    await redis.kill('SIGKILL');
    removeDir(redis.dir);
  }
});

test('Redis unreachable at start: serve exits with a clear error; with cluster.redisOptional it runs single-node and warns', { skip, timeout: 180_000 }, async () => {
  const dead = `redis://127.0.0.1:${await freePort()}`;
  const failing = await startNode({ EMOSTREAM_REDIS_URL: dead }).catch((err: Error) => err);
  assert.ok(failing instanceof Error);
  assert.match(failing.message, /Redis not reachable/);
  const optional = await startNode({ EMOSTREAM_REDIS_URL: dead, EMOSTREAM_REDIS_OPTIONAL: 'true' });
  try {
    assert.match(optional.output(), /running single-node/);
    const health = (await (await fetch(`http://127.0.0.1:${optional.port}/healthz`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
  } finally {
    await optional.kill('SIGKILL');
  }
});
