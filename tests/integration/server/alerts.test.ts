import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EMOTIONS } from '../../../src/protocol/labels.js';
import { encodeAuFrame } from '../../../src/protocol/v1/frames.js';
import type { AlertMessage, EmotionResult, ServerMessage } from '../../../src/protocol/v1/messages.js';
import { verifyDelivery } from '../../../src/alerts/signature.js';
import type { WebhookBody } from '../../../src/alerts/webhooks.js';
import { hello, probe } from '../../helpers/ws-probe.js';
import { startTestServer, TRANSPORTS } from '../../helpers/server.js';
import { readHead, referencePosterior } from '../../helpers/tiny-models.js';

const SECRET = 'integration-secret-42';
const AU_VALUE = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Real HTTP webhook targets on port 0: one that answers 200 and records, one that never answers, one that always fails. */
async function targets() {
  const good: { body: string; headers: IncomingMessage['headers'] }[] = [];
  let stuck = 0;
  let failing = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/good') {
        good.push({ body: Buffer.concat(chunks).toString(), headers: req.headers });
        res.writeHead(200).end();
      } else if (req.url === '/hangs') stuck++;
      else {
        failing++;
        res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    urls: [`${base}/good`, `${base}/hangs`, `${base}/fails`],
    good,
    counts: () => ({ stuck, failing }),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

for (const transport of TRANSPORTS) {
  describe(`alerts over ${transport}`, () => {
    test('a held label fires exactly one alert to the client, a subscriber, onAlert and the webhook; hanging and failing targets cost the session nothing', async () => {
      const hooks = await targets();
      // The tiny face model is deterministic: with every AU at AU_VALUE its posterior (and, without a fusion model, the
      // fused one) is known before the server starts; the rule watches its top class.
      let ts = await startTestServer(transport);
      const head = readHead(ts.dirs.face);
      await ts.close();
      const expected = referencePosterior(head, new Float32Array(35).fill(AU_VALUE));
      const top = expected.indexOf(Math.max(...expected));
      const label = EMOTIONS[top];
      const min = Math.round((expected[top] - 0.1) * 100) / 100;
      ts = await startTestServer(transport, {
        // Nothing may be dropped on a busy machine: the test counts hops.
        streaming: { maxPendingHops: 64 },
        alerts: {
          rules: [
            { name: 'held-label', kind: 'label', label, min, forMs: 1000 },
            // Results carry no voice activity yet: this rule must stay silent.
            { name: 'silence', kind: 'no-voice', forMs: 0 },
          ],
          webhooks: { urls: hooks.urls, secret: SECRET, timeoutMs: 300, maxAttempts: 2, backoffBaseMs: 50, backoffMaxMs: 100 },
        },
      });
      const heard: AlertMessage[] = [];
      ts.server.onAlert((a) => heard.push(a));
      try {
        const client = await probe(ts.url);
        client.ws.send(hello('1.1'));
        const welcome = await client.waitFor((m) => m.type === 'welcome');
        assert.equal((welcome as { protocol: string }).protocol, '1.1');
        const sessionId = (welcome as { sessionId: string }).sessionId;
        const sub = await probe(ts.url, `/v1/subscribe?session=${sessionId}`);
        await sub.waitFor((m) => m.type === 'subscribed');
        // 4 s of AU frames at 20 fps, faster than real time.
        for (let k = 0; k < 80; k++) {
          client.ws.send(encodeAuFrame({ seq: k, ptsUs: k * 50_000 }, new Array(35).fill(AU_VALUE)));
          if (k % 5 === 4) await sleep(40);
        }
        client.ws.send(JSON.stringify({ type: 'end' }));
        await client.waitFor((m) => m.type === 'end', 15_000);
        await sub.waitFor((m) => m.type === 'end', 15_000);

        const results = client.messages.filter((m): m is EmotionResult => m.type === 'emotion');
        const alerts = client.messages.filter((m): m is AlertMessage => m.type === 'alert');
        assert.ok(results.length >= 15, `${results.length} results`);
        assert.deepEqual(results.map((r) => r.hop), results.map((_, i) => i), 'every hop, none dropped');
        assert.ok(results.every((r) => r.droppedWindows === 0 && r.smoothed?.label === label), 'the smoothed label is held');
        assert.equal(alerts.length, 1, `exactly one alert, got ${JSON.stringify(alerts)}`);
        const a = alerts[0];
        // Held from hop 0's window end (250 ms); 1 s later is hop 4 (window end 1250 ms).
        assert.deepEqual({ ...a, message: '', value: 0 }, { type: 'alert', sessionId, rule: 'held-label', hop: 4, atUs: 1_250_000, kind: 'label', value: 0, message: '' });
        assert.ok(Math.abs(a.value - expected[top]) < 1e-3, `value ${a.value} vs ${expected[top]}`);
        const firing = client.messages.findIndex((m) => m.type === 'emotion' && m.hop === a.hop);
        assert.equal(client.messages[firing + 1], a, 'the alert comes right after the result that fired it');
        const subAlerts = sub.messages.filter((m: ServerMessage) => m.type === 'alert');
        assert.deepEqual(subAlerts, [a], 'the subscriber gets the same one alert');
        assert.deepEqual(heard, [a], 'onAlert hears it once');

        // One signed POST to the good target; the hanging and failing ones are retried and given up on meanwhile.
        const deadline = Date.now() + 10_000;
        while (hooks.good.length < 1 && Date.now() < deadline) await sleep(20);
        assert.equal(hooks.good.length, 1);
        const post = hooks.good[0];
        assert.equal(verifyDelivery(SECRET, post.body, post.headers['x-emostream-signature'] as string, post.headers['x-emostream-timestamp'] as string), null);
        assert.deepEqual((JSON.parse(post.body) as WebhookBody).alert, a);
        const metricsText = async () => (await fetch(ts.url.replace('ws', 'http') + '/metrics')).text();
        let text = '';
        while (Date.now() < deadline) {
          text = await metricsText();
          if (/emostream_webhook_dead_letters_total\{reason="timeout"\} 1/.test(text) && /emostream_webhook_dead_letters_total\{reason="http-5xx"\} 1/.test(text)) break;
          await sleep(50);
        }
        assert.match(text, /emostream_webhook_dead_letters_total\{reason="timeout"\} 1/);
        assert.match(text, /emostream_webhook_dead_letters_total\{reason="http-5xx"\} 1/);
        assert.match(text, /emostream_webhook_delivered_total 1/);
        assert.match(text, /emostream_webhook_queue_depth 0/);
        assert.match(text, /emostream_alerts_total\{kind="label"\} 1/);
        assert.deepEqual(hooks.counts(), { stuck: 2, failing: 2 }, 'two attempts each');
        assert.equal(hooks.good.length, 1, 'and still one POST to the good target');
      } finally {
        await ts.close();
        await hooks.close();
      }
    });
  });
}
