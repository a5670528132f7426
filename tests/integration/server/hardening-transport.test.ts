import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { EmoStreamClient, EmoSubscriber } from '../../../clients/node/index.js';
import { encodeAuFrame, HEADER_BYTES } from '../../../src/protocol/v1/frames.js';
import { SUBPROTOCOL } from '../../../src/protocol/v1/messages.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { probe, isError, helloProbe } from '../../helpers/ws-probe.js';
import { healthySession } from '../../helpers/healthy-session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_FRAME = 64 * 1024;
const http = (ts: TestServer) => ts.url.replace('ws://', 'http://');
const metric = async (ts: TestServer, re: RegExp) => re.test(await (await fetch(`${http(ts)}/metrics`)).text());

/** An AU-kind header followed by `bytes` of padding: a frame of exactly `bytes` bytes. */
const frameOf = (bytes: number) => {
  const f = new Uint8Array(bytes);
  f.set(encodeAuFrame({ seq: 0, ptsUs: 0 }, []).subarray(0, HEADER_BYTES));
  return f;
};

for (const transport of TRANSPORTS) {
  describe(`transport limits over ${transport}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer(transport, { server: { maxFrameBytes: MAX_FRAME, maxSendBufferBytes: 4096 }, plugins: ['../webrtc/index.ts'] });
    });
    after(async () => { await ts.close(); });

    test('frames over twice maxFrameBytes: close 1009 (message too big); up to twice: EMO_ERR_FRAME_TOO_LARGE, the session goes on', async () => {
      const healthy = healthySession(ts);
      const p = await helloProbe(ts.url);
      p.ws.send(frameOf(MAX_FRAME * 2));
      await p.waitFor(isError('EMO_ERR_FRAME_TOO_LARGE'));
      assert.equal(p.ws.readyState, WebSocket.OPEN);
      p.ws.send(frameOf(MAX_FRAME * 2 + 1));
      assert.equal((await p.closed).code, 1009);
      // Well past the limit too (uWS cuts the TCP connection only past 4x, where it stops buffering a message).
      const q = await helloProbe(ts.url);
      q.ws.send(frameOf(MAX_FRAME * 3));
      assert.equal((await q.closed).code, 1009);
      await healthy;
    });

    test('a client that never reads and keeps pinging is closed as a slow consumer (pongs count toward the send buffer)', async () => {
      const healthy = healthySession(ts);
      const p = await helloProbe(ts.url);
      p.ws.pause();
      const slow = () => metric(ts, /emostream_slow_consumers_total\{role="stream"\} 1\b/);
      // The kernel holds a few MB on loopback before the server sees a backlog: ping until it does (or give up).
      let pings = 0;
      while (pings < 400_000 && p.ws.readyState === WebSocket.OPEN) {
        for (let k = 0; k < 4000; k++, pings++) p.ws.send(`{"type":"ping","id":${-1.234567890123456e-300 * (pings + 1)}}`);
        await sleep(20);
        if (await slow()) break;
      }
      assert.ok(await slow(), `closed as a slow consumer after ${pings} pings`);
      p.ws.resume();
      const closed = await p.closed;
      assert.equal(closed.code, 4021);
      assert.ok(p.messages.filter((m) => m.type === 'pong').length > 100);
      await healthy;
    });

    test('a subscriber that never reads and keeps sending binary (an error each) is closed as a slow consumer', async () => {
      const c = await EmoStreamClient.connect({ url: ts.url });
      const sub = await EmoSubscriber.connect(ts.url, c.sessionId);
      const subClosed = sub.closed();
      sub.ws.pause();
      const slow = () => metric(ts, /emostream_slow_consumers_total\{role="subscriber"\} 1\b/);
      let sent = 0;
      while (sent < 400_000 && sub.ws.readyState === WebSocket.OPEN) {
        for (let k = 0; k < 4000; k++, sent++) sub.ws.send(new Uint8Array(1));
        await sleep(20);
        if (await slow()) break;
      }
      assert.ok(await slow(), `closed as a slow consumer after ${sent} binary messages`);
      sub.ws.resume();
      assert.equal((await subClosed).code, 4021);
      assert.equal(c.isOpen, true, 'the session it watched goes on');
      assert.equal((await c.end()).close.code, 1000);
    });

    test('WHIP offers over 64 KiB: 413 EMO_ERR_WHIP_TOO_LARGE, whatever the size', async () => {
      for (const bytes of [64 * 1024 + 1, 70 * 1024, 2 * 1024 * 1024]) {
        const res = await fetch(`${http(ts)}/v1/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n'.padEnd(bytes, 'a') });
        assert.equal(res.status, 413, `${bytes} bytes`);
        const body = (await res.json()) as { type: string; code: string };
        assert.deepEqual([body.type, body.code], ['error', 'EMO_ERR_WHIP_TOO_LARGE'], `${bytes} bytes`);
      }
    });
  });

  describe(`draining over ${transport}`, () => {
    test('/healthz answers 503 {status: "draining"} and upgrades 503 while the server drains on shutdown', async () => {
      const ts = await startTestServer(transport);
      const c = await EmoStreamClient.connect({ url: ts.url });
      let release!: () => void;
      let hookEntered!: () => void;
      const inHook = new Promise<void>((r) => { hookEntered = r; });
      // Close hooks (plugins) run while the port is still open: hold the drain there.
      ts.server.onClose(() => new Promise<void>((r) => { release = r; hookEntered(); }));
      assert.equal((await fetch(`${http(ts)}/healthz`)).status, 200);
      const closing = ts.server.close();
      await inHook;
      const res = await fetch(`${http(ts)}/healthz`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { status: string }).status, 'draining');
      await assert.rejects(() => probe(ts.url), /HTTP 503/);
      const closedEarly = await c.closed();
      assert.equal(closedEarly.code, 1001, 'sessions were ended first (server shutting down)');
      release();
      await closing;
      await ts.close();
      await assert.rejects(() => fetch(`${http(ts)}/healthz`), 'the listener is closed once drained');
      assert.equal(SUBPROTOCOL, 'emo.v1');
    });
  });
}
