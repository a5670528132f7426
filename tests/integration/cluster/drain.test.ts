import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmoStreamClient } from '../../../clients/node/index.js';
import { replay } from '../../../clients/node/replay.js';
import { readWavS16 } from '../../../bench/wav.js';
import { startNode } from '../../helpers/cluster.js';
import { until } from '../../helpers/until.js';

const WAV = readWavS16('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav');
const CHUNKS = Array.from({ length: Math.ceil(WAV.samples.length / 320) }, (_, k) => WAV.samples.subarray(k * 320, (k + 1) * 320));

test('SIGTERM drains a node: /healthz 503 "draining", new sessions refused with EMO_ERR_DRAINING, a running session finishes normally, then the process exits 0', { timeout: 180_000 }, async () => {
  const node = await startNode({ EMOSTREAM_DRAIN_TIMEOUT_MS: '60000' });
  const url = `ws://127.0.0.1:${node.port}`;
  try {
    const running = await EmoStreamClient.connect({ url });
    node.child.kill('SIGTERM');
    await until(async () => (await fetch(`http://127.0.0.1:${node.port}/healthz`)).status === 503, '/healthz 503 while draining');
    const health = (await (await fetch(`http://127.0.0.1:${node.port}/healthz`)).json()) as { status: string };
    assert.equal(health.status, 'draining');
    await assert.rejects(() => EmoStreamClient.connect({ url }), /503[\s\S]*EMO_ERR_DRAINING/);
    // The session that was running goes on to its own end: every result, then a normal close.
    const { results } = await replay(running, CHUNKS, { realtime: false });
    assert.ok(results.length >= 3, `${results.length} results while draining`);
    assert.equal((await running.closed()).code, 1000);
    assert.equal(await node.exited, 0, 'exits once its last session ended');
    assert.match(node.output(), /SIGTERM: draining/);
  } finally {
    await node.kill('SIGKILL');
  }
});
