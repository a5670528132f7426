import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EmoStreamClient, EmoSubscriber, type EmotionResult, type ServerMessage } from '../../../clients/node/index.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const transport of TRANSPORTS) {
  describe(`extension points over ${transport}`, () => {
    let ts: TestServer;
    let http: string;
    before(async () => {
      ts = await startTestServer(transport);
      http = ts.url.replace('ws://', 'http://');
      ts.server.routes.add('POST', '/v1/whip', (req) => ({
        status: 201,
        headers: { location: '/v1/whip/abc', 'content-type': 'application/sdp', 'x-type': req.headers['content-type'] ?? '' },
        body: `answer to ${req.body.toString()}`,
      }), { bodyLimitBytes: 1024 });
      ts.server.routes.add('DELETE', '/v1/whip/:id', (req) => ({ status: 200, body: `deleted ${req.params.id}` }));
      ts.server.routes.add('OPTIONS', '/v1/whip', () => ({ status: 204, headers: { 'access-control-allow-origin': '*' } }));
    });
    after(async () => { await ts.close(); });

    test('routes: POST body, path params, OPTIONS, 405 and 413 on the same port', async () => {
      const post = await fetch(`${http}/v1/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0 offer' });
      assert.equal(post.status, 201);
      assert.equal(post.headers.get('location'), '/v1/whip/abc');
      assert.equal(post.headers.get('x-type'), 'application/sdp');
      assert.equal(await post.text(), 'answer to v=0 offer');
      const del = await fetch(`${http}/v1/whip/xyz`, { method: 'DELETE' });
      assert.equal(await del.text(), 'deleted xyz');
      const opt = await fetch(`${http}/v1/whip`, { method: 'OPTIONS' });
      assert.equal(opt.status, 204);
      assert.equal(opt.headers.get('access-control-allow-origin'), '*');
      assert.equal((await fetch(`${http}/v1/whip`, { method: 'PUT', body: 'x' })).status, 405);
      const big = await fetch(`${http}/v1/whip`, { method: 'POST', body: 'x'.repeat(5000) }).catch(() => null);
      if (big) assert.equal(big.status, 413);
      assert.equal((await fetch(`${http}/healthz`)).status, 200, 'still serving after an oversized body');
    });

    test('session API: a non-WebSocket session gets the same pipeline, errors, subscribers and end', async () => {
      const sent: ServerMessage[] = [];
      let closed: { code: number; reason: string } | null = null;
      const handle = ts.server.sessions.open({ client: 'test/api', transport: 'api', sink: { send: (m) => sent.push(m), close: (code, reason) => { closed = { code, reason }; } } });
      assert.equal(handle.welcome.sessionId, handle.id);
      const sub = await EmoSubscriber.connect(ts.url, handle.id);
      const subMsgs: ServerMessage[] = [];
      const subDone = (async () => { for await (const m of sub.messages()) subMsgs.push(m); })();
      await sleep(20);
      assert.equal(handle.pushPcm(new Int16Array(100), { sampleRate: 100000, channels: 1, ptsUs: 0 }), false);
      assert.ok(sent.some((m) => m.type === 'error' && m.code === 'EMO_ERR_SAMPLE_RATE'));
      for (let k = 0; k < 30; k++) {
        const x = new Int16Array(960 * 2).map((_, i) => Math.round(5000 * Math.sin((k * 960 + (i >> 1)) / 9)));
        assert.ok(handle.pushPcm(x, { sampleRate: 48000, channels: 2, ptsUs: k * 20_000 }));
        if (k % 2 === 0) assert.ok(handle.pushAu(new Float32Array(35).fill(0.25), k * 20_000));
        await sleep(2);
      }
      assert.equal(handle.pushVideo({ format: 'jpeg', width: 2, height: 2, payload: new Uint8Array([0xff, 0xd8, 0, 0]), ptsUs: 700_000 }), false);
      assert.ok(sent.some((m) => m.type === 'error' && m.code === 'EMO_ERR_VIDEO_UNAVAILABLE'));
      await handle.end();
      await subDone;
      const results = sent.filter((m): m is EmotionResult => m.type === 'emotion');
      assert.ok(results.length >= 2);
      assert.ok(results[results.length - 1].final);
      assert.ok(results.every((r) => r.speech && r.face));
      assert.equal(sent[sent.length - 1].type, 'end');
      assert.deepEqual(closed, { code: 1000, reason: 'end' });
      assert.equal(subMsgs.filter((m) => m.type === 'emotion').length, results.length);
      assert.equal(handle.pushAu(new Float32Array(35), 1e6), false, 'pushes after end are refused');
    });
  });

  describe(`graceful shutdown over ${transport}`, () => {
    test('open sessions get their final result, end (shutdown) and close 1001', async () => {
      const ts = await startTestServer(transport);
      const c = await EmoStreamClient.connect({ url: ts.url });
      const results: EmotionResult[] = [];
      const reader = (async () => { for await (const r of c.results()) results.push(r); })();
      for (let k = 0; k < 20; k++) {
        c.sendAudio(new Int16Array(320).map((_, i) => (i * 37) % 2000), { sampleRate: 16000, channels: 1, ptsUs: k * 20_000 });
        await sleep(2);
      }
      await sleep(30);
      await ts.close();
      const cl = await c.closed();
      await reader;
      assert.equal(cl.code, 1001);
      assert.ok(results.length >= 2);
      assert.equal(results[results.length - 1].final, true);
      await assert.rejects(EmoStreamClient.connect({ url: ts.url, connectTimeoutMs: 2000 }));
    });
  });
}
