import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../helpers/until.js';
import { WebSocketServer } from 'ws';
import { EmoStreamClient } from '../../../clients/node/index.js';
import { AsyncQueue } from '../../../clients/node/async-queue.js';

/**
 * A stand-in server: answers hello with welcome; the first connection is dropped without a close frame (1006)
 * after its first binary frame; later ones echo one result per frame.
 */
async function flakyServer() {
  const wss = new WebSocketServer({ port: 0, handleProtocols: (p) => (p.has('emo.v1') ? 'emo.v1' : false) });
  await new Promise((r) => wss.once('listening', r));
  let connections = 0;
  wss.on('connection', (ws) => {
    const n = ++connections;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString()) as { type: string };
        if (m.type === 'hello') ws.send(JSON.stringify({ type: 'welcome', protocol: '1.0', sessionId: `s${n}`, models: [], windowMs: 1000, hopMs: 250 }));
        if (m.type === 'end') {
          ws.send(JSON.stringify({ type: 'end', sessionId: `s${n}`, reason: 'client-end', results: 1, droppedWindows: 0 }));
          ws.close(1000, 'end');
        }
        return;
      }
      if (n === 1) {
        ws.terminate();
        return;
      }
      const probs = [1, 0, 0, 0, 0, 0, 0, 0];
      ws.send(JSON.stringify({ type: 'emotion', sessionId: `s${n}`, hop: 0, windowStartUs: 0, windowEndUs: 250000, lastFramePtsUs: 0, final: false, speech: { probs }, face: null, fused: { probs, label: 'neutral', head: 'x' }, latency: { totalMs: 1 }, droppedWindows: 0 }));
    });
  });
  const port = (wss.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}`, close: () => new Promise<void>((r) => wss.close(() => r())), connections: () => connections };
}

test('after an abnormal close the client reconnects with a new session and results keep flowing', async () => {
  const srv = await flakyServer();
  const c = await EmoStreamClient.connect({ url: srv.url, reconnect: { retries: 2, delayMs: 20 } });
  assert.equal(c.sessionId, 's1');
  c.sendAudio(new Int16Array(320), { sampleRate: 16000, channels: 1, ptsUs: 0 });
  await until(() => c.sessionId !== 's1', 'the reconnect');
  assert.equal(c.sessionId, 's2');
  assert.equal(c.reconnects, 1);
  c.sendAudio(new Int16Array(320), { sampleRate: 16000, channels: 1, ptsUs: 20_000 });
  const first = await c.results().next();
  assert.equal(first.done, false);
  assert.equal(first.value!.fused!.label, 'neutral');
  const { end, close } = await c.end();
  assert.equal(close.code, 1000);
  assert.equal(end?.sessionId, 's2');
  await srv.close();
});

test('without reconnect, an abnormal close ends the result iterator', async () => {
  const srv = await flakyServer();
  const c = await EmoStreamClient.connect({ url: srv.url });
  c.sendAudio(new Int16Array(320), { sampleRate: 16000, channels: 1, ptsUs: 0 });
  const next = await c.results().next();
  assert.equal(next.done, true);
  assert.equal((await c.closed()).code, 1006);
  await srv.close();
});

test('AsyncQueue is bounded and drops the oldest', async () => {
  const q = new AsyncQueue<number>(2);
  q.push(1); q.push(2); q.push(3);
  assert.equal(q.dropped, 1);
  assert.equal((await q.next()).value, 2);
  q.end();
  assert.equal((await q.next()).value, 3);
  assert.equal((await q.next()).done, true);
});
