import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { EmoStreamClient, EmoSubscriber, type ServerMessage } from '../../../clients/node/index.js';
import { encodeAudioFrame, encodeAuFrame, encodeVideoFrame, HEADER_BYTES } from '../../../src/protocol/v1/frames.js';
import { ERROR_CATALOGUE } from '../../../src/protocol/v1/errors.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { probe, hello, isError } from '../../helpers/ws-probe.js';
import { until } from '../../helpers/until.js';
import { healthySession, tone } from '../../helpers/healthy-session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const close = (code: keyof typeof ERROR_CATALOGUE) => ERROR_CATALOGUE[code].closeCode;

async function streamed(p: Awaited<ReturnType<typeof probe>>): Promise<void> {
  p.ws.send(hello());
  await p.waitFor((m) => m.type === 'welcome');
}

for (const transport of TRANSPORTS) {
  describe(`bad input over ${transport}`, () => {
    let ts: TestServer;
    before(async () => { ts = await startTestServer(transport, { server: { helloTimeoutMs: 300 } }); });
    after(async () => { await ts.close(); });

    test('missing hello (silence after connecting) -> EMO_ERR_BAD_HELLO after helloTimeoutMs, close 4000', async () => {
      const p = await probe(ts.url);
      const err = await p.waitFor(isError('EMO_ERR_BAD_HELLO'));
      assert.match((err as { message: string }).message, /no hello within 300 ms/);
      assert.equal((await p.closed).code, close('EMO_ERR_BAD_HELLO'));
    });

    test('wrong first message (not hello) -> EMO_ERR_BAD_HELLO, close 4000', async () => {
      const p = await probe(ts.url);
      p.ws.send(JSON.stringify({ type: 'end' }));
      await p.waitFor(isError('EMO_ERR_BAD_HELLO'));
      assert.equal((await p.closed).code, close('EMO_ERR_BAD_HELLO'));
      await healthySession(ts);
    });

    test('malformed hello (not JSON, missing protocol) -> EMO_ERR_BAD_HELLO', async () => {
      for (const text of ['{hello', JSON.stringify({ type: 'hello' }), JSON.stringify({ type: 'hello', protocol: '1.0', extra: 1 })]) {
        const p = await probe(ts.url);
        p.ws.send(text);
        await p.waitFor(isError('EMO_ERR_BAD_HELLO'));
        assert.equal((await p.closed).code, 4000);
      }
    });

    test('unknown protocol major version -> EMO_ERR_PROTOCOL_VERSION, close 4001', async () => {
      const p = await probe(ts.url);
      p.ws.send(hello('2.0'));
      const err = await p.waitFor(isError('EMO_ERR_PROTOCOL_VERSION'));
      assert.match((err as { message: string }).message, /2\.0/);
      assert.equal((await p.closed).code, 4001);
    });

    test('binary before hello -> EMO_ERR_BINARY_BEFORE_HELLO, close 4002', async () => {
      const p = await probe(ts.url);
      p.ws.send(encodeAudioFrame({ seq: 0, ptsUs: 0 }, tone(320), 16000, 1));
      await p.waitFor(isError('EMO_ERR_BINARY_BEFORE_HELLO'));
      assert.equal((await p.closed).code, 4002);
    });

    test('truncated, oversized, unknown-kind frames get specific codes and the session goes on', async () => {
      const p = await probe(ts.url);
      await streamed(p);
      p.ws.send(new Uint8Array(9));
      await p.waitFor(isError('EMO_ERR_FRAME_TRUNCATED'));
      const cut = encodeAudioFrame({ seq: 1, ptsUs: 0 }, tone(320), 16000, 1);
      p.ws.send(cut.subarray(0, cut.length - 1));
      assert.equal(p.messages.filter(isError('EMO_ERR_FRAME_TRUNCATED')).length >= 1, true);
      p.ws.send(new Uint8Array(256 * 1024 + 1));
      await p.waitFor(isError('EMO_ERR_FRAME_TOO_LARGE'));
      const unknown = encodeAudioFrame({ streamId: 7, seq: 42, ptsUs: 0 }, tone(8), 16000, 1);
      unknown[1] = 99;
      p.ws.send(unknown);
      const err = (await p.waitFor(isError('EMO_ERR_UNKNOWN_KIND'))) as { streamId?: number; seq?: number };
      assert.deepEqual([err.streamId, err.seq], [7, 42], 'errors name the offending frame');
      for (let k = 0; k < 20; k++) p.ws.send(encodeAudioFrame({ seq: k, ptsUs: k * 20_000 }, tone(320, k * 320), 16000, 1));
      await p.waitFor((m) => m.type === 'emotion');
      p.ws.close();
      await healthySession(ts);
    });

    test('sample rate out of range, NaN/Inf samples and AU values, wrong AU length', async () => {
      const p = await probe(ts.url);
      await streamed(p);
      p.ws.send(encodeAudioFrame({ seq: 0, ptsUs: 0 }, tone(64), 96000, 1));
      await p.waitFor(isError('EMO_ERR_SAMPLE_RATE'));
      p.ws.send(encodeAudioFrame({ seq: 1, ptsUs: 0 }, tone(64), 7999, 1));
      p.ws.send(encodeAudioFrame({ seq: 2, ptsUs: 0 }, Float32Array.from([0, NaN, 0, 0]), 16000, 1));
      await p.waitFor(isError('EMO_ERR_NON_FINITE'));
      p.ws.send(encodeAudioFrame({ seq: 3, ptsUs: 0 }, Float32Array.from([0, Infinity]), 16000, 1));
      const aus = new Array(35).fill(0.5);
      aus[3] = NaN;
      p.ws.send(encodeAuFrame({ seq: 4, ptsUs: 0 }, aus));
      p.ws.send(encodeAuFrame({ seq: 5, ptsUs: 0 }, new Array(17).fill(1)));
      await p.waitFor(isError('EMO_ERR_AU_LENGTH'));
      assert.equal(p.messages.filter(isError('EMO_ERR_NON_FINITE')).length, 3);
      assert.equal(p.messages.filter(isError('EMO_ERR_SAMPLE_RATE')).length, 2);
      assert.equal(p.ws.readyState, WebSocket.OPEN, 'non-fatal: the session stays open');
      p.ws.close();
      await healthySession(ts);
    });

    test('timestamps going backwards -> EMO_ERR_TIMESTAMP_BACKWARDS (audio and AU)', async () => {
      const p = await probe(ts.url);
      await streamed(p);
      p.ws.send(encodeAudioFrame({ seq: 0, ptsUs: 100_000 }, tone(320), 16000, 1));
      p.ws.send(encodeAudioFrame({ seq: 1, ptsUs: 50_000 }, tone(320), 16000, 1));
      await p.waitFor(isError('EMO_ERR_TIMESTAMP_BACKWARDS'));
      p.ws.send(encodeAuFrame({ seq: 2, ptsUs: 200_000 }, new Array(35).fill(0)));
      p.ws.send(encodeAuFrame({ seq: 3, ptsUs: 100_000 }, new Array(35).fill(0)));
      await until(() => p.messages.filter(isError('EMO_ERR_TIMESTAMP_BACKWARDS')).length >= 2, 'the second TIMESTAMP_BACKWARDS');
      // A ping answered after both frames: nothing more about them can still be on its way.
      p.ws.send('{"type":"ping","id":9}');
      await p.waitFor((m) => m.type === 'pong');
      assert.equal(p.messages.filter(isError('EMO_ERR_TIMESTAMP_BACKWARDS')).length, 2);
      p.ws.close();
    });

    test('video frames without an analyzer -> EMO_ERR_VIDEO_UNAVAILABLE; bad dimensions -> EMO_ERR_VIDEO_DIMENSIONS', async () => {
      const p = await probe(ts.url);
      await streamed(p);
      p.ws.send(encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'i420', 4, 2, new Uint8Array(12)));
      const err = await p.waitFor(isError('EMO_ERR_VIDEO_UNAVAILABLE'));
      assert.match((err as { message: string }).message, /video analysis unavailable/);
      p.ws.send(encodeVideoFrame({ seq: 1, ptsUs: 0 }, 'rgba', 4, 2, new Uint8Array(31)));
      await p.waitFor(isError('EMO_ERR_VIDEO_DIMENSIONS'));
      p.ws.close();
    });

    test('bad control message after hello -> EMO_ERR_BAD_MESSAGE; ping -> pong', async () => {
      const p = await probe(ts.url);
      await streamed(p);
      p.ws.send('{"type":"dance"}');
      await p.waitFor(isError('EMO_ERR_BAD_MESSAGE'));
      p.ws.send('{"type":"ping","id":3}');
      await p.waitFor((m) => m.type === 'pong');
      p.ws.close();
    });

    test('client vanishing mid-window: subscribers hear EMO_ERR_SESSION_LOST and end; the server goes on', async () => {
      const c = await EmoStreamClient.connect({ url: ts.url });
      const sub = await EmoSubscriber.connect(ts.url, c.sessionId);
      const msgs: ServerMessage[] = [];
      const done = (async () => { for await (const m of sub.messages()) msgs.push(m); })();
      for (let k = 0; k < 20; k++) c.sendAudio(tone(320, k * 320), { sampleRate: 16000, channels: 1, ptsUs: k * 20_000 });
      await sleep(100);
      c.terminate();
      const cl = await sub.closed();
      await done;
      assert.equal(cl.code, close('EMO_ERR_SESSION_LOST'));
      assert.ok(msgs.some(isError('EMO_ERR_SESSION_LOST')));
      const end = msgs.find((m) => m.type === 'end') as { reason: string };
      assert.equal(end.reason, 'client-gone');
      const sessionsNow = async () => ((await (await fetch(ts.url.replace('ws', 'http') + '/healthz')).json()) as { sessions: number }).sessions;
      await until(async () => await sessionsNow() === 0, 'the vanished session is gone');
      await healthySession(ts);
    });

    test('fuzz: 400 random frames (valid headers, random kinds and payloads) never crash the server', async () => {
      const p = await probe(ts.url);
      await streamed(p);
      let seed = 12345;
      const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
      for (let i = 0; i < 400; i++) {
        const body = new Uint8Array(Math.floor(rnd() * 600));
        for (let j = 0; j < body.length; j++) body[j] = Math.floor(rnd() * 256);
        if (body.length >= 16 && rnd() < 0.8) {
          body[0] = 1;
          body[1] = 1 + Math.floor(rnd() * 7);
        }
        p.ws.send(body);
      }
      p.ws.send('{"type":"ping","id":1}');
      await p.waitFor((m) => m.type === 'pong', 10000);
      assert.ok(p.messages.filter((m) => m.type === 'error').length > 100);
      p.ws.close();
      await healthySession(ts);
    });

    test('subscriber to an unknown session -> EMO_ERR_UNKNOWN_SESSION, close 4020', async () => {
      for (const path of ['/v1/subscribe?session=nope', '/v1/subscribe']) {
        const p = await probe(ts.url, path);
        await p.waitFor(isError('EMO_ERR_UNKNOWN_SESSION'));
        assert.equal((await p.closed).code, 4020);
      }
    });

    test('wrong subprotocol is refused at the upgrade; unknown paths are 404', async () => {
      await assert.rejects(probe(ts.url, '/v1/stream', ['emo.v9']), /HTTP 400/);
      await assert.rejects(probe(ts.url, '/v1/other'), /HTTP 404/);
    });
  });

  describe(`limits over ${transport}`, () => {
    test('session and subscriber limits answer EMO_ERR_TOO_MANY_SESSIONS (4023); the existing session is untouched', async () => {
      const ts = await startTestServer(transport, { server: { maxSessions: 1, maxSubscribersPerSession: 1 } });
      try {
        const c = await EmoStreamClient.connect({ url: ts.url });
        const p = await probe(ts.url);
        p.ws.send(hello());
        await p.waitFor(isError('EMO_ERR_TOO_MANY_SESSIONS'));
        assert.equal((await p.closed).code, close('EMO_ERR_TOO_MANY_SESSIONS'));
        const sub = await EmoSubscriber.connect(ts.url, c.sessionId);
        const second = await probe(ts.url, `/v1/subscribe?session=${c.sessionId}`);
        await second.waitFor(isError('EMO_ERR_TOO_MANY_SESSIONS'));
        for (let k = 0; k < 20; k++) c.sendAudio(tone(320, k * 320), { sampleRate: 16000, channels: 1, ptsUs: k * 20_000 });
        const { close: cl } = await c.end();
        assert.equal(cl.code, 1000);
        assert.equal((await sub.closed()).code, 1000);
      } finally {
        await ts.close();
      }
    });
  });

  describe(`slow subscriber over ${transport}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer(transport, {
        // Floods media far faster than real time on purpose: the real-time limit is lifted for this test.
        server: { maxSendBufferBytes: 64 * 1024, maxRealtimeFactor: 10000 },
        streaming: { windowMs: 100, hopMs: 10, maxPendingHops: 64 },
        models: { speech: { enabled: false }, face: { enabled: false } },
      });
    });
    after(async () => { await ts.close(); });

    test('a subscriber that stops reading is closed with EMO_ERR_SLOW_CONSUMER; the session is unaffected', async () => {
      const c = await EmoStreamClient.connect({ url: ts.url });
      let results = 0;
      const reader = (async () => { for await (const _r of c.results()) results++; })();
      const sub = await EmoSubscriber.connect(ts.url, c.sessionId);
      const subClosed = sub.closed();
      // ws.pause() stops reading for real (pausing the raw socket is undone by ws itself).
      sub.ws.pause();
      const slowClosed = async () => /emostream_slow_consumers_total\{role="subscriber"\} 1/.test(await (await fetch(ts.url.replace('ws', 'http') + '/metrics')).text());
      let sent = 0;
      // The kernel buffers several MB on loopback before the server sees any backlog: keep streaming until it does.
      // Every AU frame makes one hop due. The client waits for the results to catch up after each burst, so at most
      // BURST + MAX_LAG hops are ever outstanding, below maxPendingHops (64): the session's own drop-oldest queue
      // (which drops on a busy machine when the server reads many bursts at once) never comes into play, whatever
      // the load, and "the session kept every result" is exact.
      const BURST = 24;
      const MAX_LAG = 24;
      for (let k = 0; k < 60000; k++) {
        c.sendAu(new Array(35).fill((k % 5) / 4), k * 10_000);
        sent++;
        if (sent % BURST === 0) await until(() => sent - results <= MAX_LAG, `results caught up (${results} of ${sent})`);
        if (k % 2000 === 1999 && await slowClosed()) break;
      }
      assert.ok(await slowClosed(), 'the server dropped the stalled subscriber');
      sub.ws.resume();
      const cl = await subClosed;
      assert.equal(cl.code, close('EMO_ERR_SLOW_CONSUMER'));
      const { end, close: streamClose } = await c.end();
      await reader;
      assert.equal(streamClose.code, 1000, 'the streaming client is unaffected');
      assert.equal(end?.droppedWindows, 0, 'the session dropped no window');
      assert.ok(results >= sent - 5, `the session kept every result (${results} of ~${sent})`);
    });
  });
}

// Header layout sanity for the error-location feature above.
test('frame header is 16 bytes', () => assert.equal(HEADER_BYTES, 16));
