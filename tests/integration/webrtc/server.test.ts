import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmoSubscriber } from '../../../clients/node/index.js';
import type { ServerMessage } from '../../../src/protocol/v1/messages.js';
import { createEmoServer } from '../../../src/server/app.js';
import { WhipClient } from '../../../clients/node/whip-client.js';
import { tone48k } from './webrtc-harness.js';

// The plugin inside the real server, on both HTTP transports: routes, the session API, results on the DataChannel
// and the same session followed on /v1/subscribe.
for (const transport of ['uws', 'ws'] as const) {
  test(`WHIP on the ${transport} transport: results on the DataChannel and to a /v1/subscribe follower`, async () => {
    const server = await createEmoServer({ overrides: { server: { port: 0, host: '127.0.0.1', transport }, log: { level: 'error' }, storage: { databaseUrl: 'none' } } });
    const port = await server.listen();
    const base = `http://127.0.0.1:${port}`;
    let client: WhipClient | undefined;
    try {
      let r = await fetch(`${base}/v1/whip`, { method: 'OPTIONS' });
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      r = await fetch(`${base}/v1/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=1' });
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as { code: string }).code, 'EMO_ERR_WHIP_BAD_SDP');
      r = await fetch(`${base}/v1/whip/00000000-0000-0000-0000-000000000000`, { method: 'DELETE' });
      assert.equal(r.status, 404);
      r = await fetch(`${base}/v1/whip`, { method: 'GET' });
      assert.equal(r.status, 405);

      client = await WhipClient.connect({ url: `${base}/v1/whip` });
      assert.match(client.sessionId, /^[0-9a-f-]{36}$/);
      const sub = await EmoSubscriber.connect(`ws://127.0.0.1:${port}`, client.sessionId);
      const followed: ServerMessage[] = [];
      const reading = (async () => { for await (const m of sub.messages()) followed.push(m); })();
      await client.streamPcm(tone48k(1.6));
      await client.end(8000);
      const results = client.messages.filter((m) => m.type === 'emotion');
      assert.ok(results.length >= 3, `${results.length} results on the DataChannel`);
      assert.ok(results.every((m) => typeof (m as { capture?: { windowEndEpochMs: number } }).capture?.windowEndEpochMs === 'number'));
      assert.ok((results.at(-1) as { final?: boolean }).final, 'the last result is final');
      await sub.closed();
      await reading;
      assert.ok(followed.some((m) => m.type === 'subscribed'));
      assert.equal(followed.filter((m) => m.type === 'emotion').length, results.length, 'the follower saw every result');
      // The peer hangs up just after `end` (DataChannel drained): the counter follows within moments.
      let metrics = '';
      for (let i = 0; i < 60 && !/emostream_webrtc_sessions_ended_total\{reason="client-end"\} 1/.test(metrics); i++) {
        await new Promise((res) => setTimeout(res, 50));
        metrics = await (await fetch(`${base}/metrics`)).text();
      }
      assert.match(metrics, /emostream_webrtc_sessions_ended_total\{reason="client-end"\} 1/);
      assert.match(metrics, /emostream_webrtc_sessions 0/);
    } finally {
      await client?.close();
      await server.close();
    }
  });
}
