import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Alerting } from '../../../src/alerts/alerting.js';
import { alertsConfigSchema, type WebhookConfig } from '../../../src/alerts/config.js';
import { verifyDelivery } from '../../../src/alerts/signature.js';
import type { WebhookBody } from '../../../src/alerts/webhooks.js';
import type { AlertMessage } from '../../../src/protocol/v1/messages.js';
import { createMetrics, type Metrics } from '../../../src/server/metrics.js';
import { loadConfig } from '../../../src/server/config.js';

const SECRET = 'test-secret-0123456789';

interface Received { body: string; headers: IncomingMessage['headers']; parsed: WebhookBody }

/** A real HTTP target on 127.0.0.1:0; `answer` decides per request (n counts from 1). */
async function target(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const received: Received[] = [];
  let n = 0;
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      received.push({ body, headers: req.headers, parsed: JSON.parse(body) as WebhookBody });
      for (const w of waiters.splice(0)) w();
      answer(++n, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    /** Resolves once `count` requests have arrived. */
    async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`target got ${received.length} of ${count} requests`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function alert(rule = 'anger', hop = 9): AlertMessage {
  return { type: 'alert', sessionId: 's1', rule, hop, atUs: 5_500_000, kind: 'label', value: 0.7, message: 'smoothed angry at 0.7 for 2 s' };
}

function alerting(webhooks: Partial<WebhookConfig> & { urls: string[] }): { a: Alerting; metrics: Metrics } {
  const metrics = createMetrics();
  const config = alertsConfigSchema.parse({ webhooks: { secret: SECRET, backoffBaseMs: 20, backoffMaxMs: 100, ...webhooks } });
  return { a: new Alerting(config, metrics, pino({ level: 'silent' })), metrics };
}

type Target = Awaited<ReturnType<typeof target>>;

/** One target and one Alerting posting to it (plus `extraUrls`), torn down after `body` whatever happens. */
async function scenario(answer: Parameters<typeof target>[0], webhooks: Partial<WebhookConfig>, body: (t: Target, a: Alerting, metrics: Metrics) => Promise<void>): Promise<void> {
  const t = await target(answer);
  const { a, metrics } = alerting({ ...webhooks, urls: [t.url] });
  try {
    await body(t, a, metrics);
  } finally {
    await a.close(1000);
    await t.close();
  }
}

async function metric(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const all = await m.registry.getMetricsAsJSON();
  const found = all.find((x) => x.name === name);
  const v = found?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return Number(v?.value ?? 0);
}

/** Polls until `check` passes (deliveries finish in their own time; no timing assertions). */
async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('webhook: a good target receives the alert, signed (HMAC-SHA256 of the raw body) with a signed timestamp', async () => {
  await scenario((_n, _q, res) => res.writeHead(204).end(), {}, async (t, a, metrics) => {
    a.publish(alert());
    await t.waitFor(1);
    const [r] = t.received;
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(String(r.headers['x-emostream-signature']), /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyDelivery(SECRET, r.body, r.headers['x-emostream-signature'] as string, r.headers['x-emostream-timestamp'] as string), null);
    assert.deepEqual(r.parsed.alert, alert());
    assert.equal(r.parsed.attempt, 1);
    assert.equal(r.headers['x-emostream-delivery'], r.parsed.id);
    // What a receiver must refuse: another secret, a changed body, a replaced timestamp header, an old delivery.
    const sig = r.headers['x-emostream-signature'] as string;
    const ts = r.headers['x-emostream-timestamp'] as string;
    assert.match(verifyDelivery('another-secret-0123456', r.body, sig, ts)!, /does not match/);
    assert.match(verifyDelivery(SECRET, r.body.replace('0.7', '0.9'), sig, ts)!, /does not match/);
    assert.match(verifyDelivery(SECRET, r.body, sig, String(Number(ts) + 1000))!, /timestamp header/);
    assert.match(verifyDelivery(SECRET, r.body, sig, ts, { nowS: Number(ts) + 3600 })!, /replay/);
    await eventually(async () => (await metric(metrics, 'emostream_webhook_delivered_total')) === 1, 'delivered counted');
    assert.equal(await metric(metrics, 'emostream_webhook_queue_depth'), 0);
    assert.equal(await metric(metrics, 'emostream_alerts_total', { kind: 'label' }), 1);
  });
});

test('webhook: 500 then success is retried (same delivery id, a new signature and attempt number)', async () => {
  await scenario((n, _q, res) => res.writeHead(n === 1 ? 500 : 200).end('ok'), {}, async (t, a, metrics) => {
    a.publish(alert());
    await t.waitFor(2);
    const [first, second] = t.received;
    assert.equal(first.parsed.id, second.parsed.id);
    assert.deepEqual([first.parsed.attempt, second.parsed.attempt], [1, 2]);
    assert.equal(verifyDelivery(SECRET, second.body, second.headers['x-emostream-signature'] as string, second.headers['x-emostream-timestamp'] as string), null);
    await eventually(async () => (await metric(metrics, 'emostream_webhook_delivered_total')) === 1, 'delivered after the retry');
    assert.equal(await metric(metrics, 'emostream_webhook_attempts_total', { result: 'http-5xx' }), 1);
    assert.equal(await metric(metrics, 'emostream_webhook_dead_letters_total'), 0);
  });
});

test('webhook: a target that hangs times out on every attempt, then the delivery is a dead letter', async () => {
  await scenario(() => undefined, { timeoutMs: 200, maxAttempts: 3 }, async (t, a, metrics) => { // never answers
    a.publish(alert());
    await eventually(async () => (await metric(metrics, 'emostream_webhook_dead_letters_total', { reason: 'timeout' })) === 1, 'dead letter after 3 timeouts');
    assert.equal(t.received.length, 3, 'three attempts');
    assert.equal(await metric(metrics, 'emostream_webhook_attempts_total', { result: 'timeout' }), 3);
    assert.equal(await metric(metrics, 'emostream_webhook_queue_depth'), 0);
  });
});

test('webhook: a redirect is not followed; the delivery is a dead letter at once (no retry)', async () => {
  const elsewhere = await target((_n, _q, res) => res.writeHead(200).end());
  await scenario((_n, _q, res) => res.writeHead(302, { location: elsewhere.url }).end(), {}, async (t, a, metrics) => {
    a.publish(alert());
    await eventually(async () => (await metric(metrics, 'emostream_webhook_dead_letters_total', { reason: 'redirect' })) === 1, 'redirect dead letter');
    assert.equal(t.received.length, 1);
    assert.equal(elsewhere.received.length, 0, 'the signed alert never reached the redirect target');
  }).finally(() => elsewhere.close());
});

test('webhook: a full queue drops new deliveries and counts them; the queue drains afterwards', async () => {
  let release: (() => void) | null = null;
  const gate = new Promise<void>((r) => { release = r; });
  await scenario((_n, _q, res) => void gate.then(() => res.writeHead(200).end()), { maxQueue: 3, maxConcurrent: 1, timeoutMs: 10_000 }, async (t, a, metrics) => {
    for (let i = 0; i < 10; i++) a.publish(alert('anger', i));
    assert.equal(await metric(metrics, 'emostream_webhook_dropped_total'), 7);
    assert.equal(await metric(metrics, 'emostream_webhook_queue_depth'), 3);
    release!();
    await t.waitFor(3);
    await eventually(async () => (await metric(metrics, 'emostream_webhook_delivered_total')) === 3, 'three delivered');
    assert.deepEqual(t.received.map((r) => r.parsed.alert.hop), [0, 1, 2], 'the first three, in order');
    assert.equal(await metric(metrics, 'emostream_webhook_queue_depth'), 0);
  });
});

test('webhook: 4xx is not retried; listeners get every alert, and one that throws does not stop the others', async () => {
  const heard: string[] = [];
  await scenario((_n, _q, res) => res.writeHead(410).end(), {}, async (t, a, metrics) => {
    a.onAlert(() => { throw new Error('broken listener'); });
    a.onAlert((x) => heard.push(x.rule));
    a.publish(alert('r1'));
    assert.deepEqual(heard, ['r1']);
    await eventually(async () => (await metric(metrics, 'emostream_webhook_dead_letters_total', { reason: 'http-4xx' })) === 1, '4xx dead letter');
    assert.equal(t.received.length, 1);
  });
});

test('webhook: shutdown gives the queue its grace, then counts what is left as dead letters (shutdown)', async () => {
  const t = await target(() => undefined);
  const { a, metrics } = alerting({ urls: [t.url], timeoutMs: 60_000 });
  a.publish(alert());
  await t.waitFor(1);
  await a.close(100);
  assert.equal(await metric(metrics, 'emostream_webhook_dead_letters_total', { reason: 'shutdown' }), 1);
  assert.equal(await metric(metrics, 'emostream_webhook_queue_depth'), 0);
  await t.close();
});

test('webhook config: a malformed URL or a missing secret stops the start with a clear error', () => {
  const env = (urls: string, secret = SECRET) => ({ EMOSTREAM_WEBHOOK_URLS: urls, EMOSTREAM_WEBHOOK_SECRET: secret });
  assert.throws(() => loadConfig({ env: env('http://ok.example/hook, not a url') }), /alerts\.webhooks\.urls\.1: webhook URL "not a url" is not a valid absolute URL/);
  assert.throws(() => loadConfig({ env: env('ftp://files.example/x') }), /must be http: or https:, not ftp:/);
  assert.throws(() => loadConfig({ env: env('https://ok.example/hook', 'short') }), /alerts\.webhooks\.secret: a webhook secret of at least 16 characters/);
  assert.deepEqual(loadConfig({ env: env(' https://a.example/x , http://b.example:8080/y ') }).alerts.webhooks.urls, ['https://a.example/x', 'http://b.example:8080/y']);
});
