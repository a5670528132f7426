import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EmoStreamClient, type EmotionResult } from '../../../clients/node/index.js';
import { PostgresStore } from '../../../src/storage/postgres.js';
import { postgresSkip, startPostgres, type PgCluster } from '../../helpers/postgres.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { storeContract } from '../../helpers/store-contract.js';

const skip = postgresSkip();
if (skip) console.log(`# PostgreSQL tests skipped: ${skip}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pg: PgCluster;
let db = 0;

/** A fresh database of the cluster per store, so contract tests do not see each other's rows. */
async function freshDatabase(): Promise<string> {
  const admin = new PostgresStore(pg.url, { poolSize: 1, timeoutMs: 5000 });
  const name = `c${process.pid}_${db++}`;
  await (admin as unknown as { q(t: string): Promise<unknown> }).q(`CREATE DATABASE ${name}`);
  await admin.close();
  return pg.url.replace(/\/emostream$/, `/${name}`);
}

/** Streams `seconds` of a tone with AU frames, about 4x real time, and collects what the client received. */
async function streamTone(ts: TestServer, seconds: number, during?: (elapsedS: number) => void): Promise<{ id: string; results: EmotionResult[] }> {
  const c = await EmoStreamClient.connect({ url: ts.url, client: 'pg-test' });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  for (let s = 0; s < seconds * 16000; s += 320) {
    const pcm = Int16Array.from({ length: 320 }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 220 * (s + i)) / 16000)));
    c.sendAudio(pcm, { sampleRate: 16000, channels: 1, ptsUs: (s / 16000) * 1e6 });
    during?.(s / 16000);
    await sleep(5);
  }
  await c.end();
  await reader;
  return { id: c.sessionId, results };
}

async function storedResults(ts: TestServer, id: string, n: number, timeoutMs = 20000): Promise<EmotionResult[]> {
  const base = ts.url.replace('ws://', 'http://');
  const t0 = Date.now();
  for (;;) {
    const res = await fetch(`${base}/v1/sessions/${id}/timeline`);
    if (res.status === 200) {
      const body = (await res.json()) as { results: EmotionResult[] };
      if (body.results.length >= n) return body.results;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`session ${id}: ${n} results not stored within ${timeoutMs} ms (HTTP ${res.status})`);
    await sleep(100);
  }
}

async function metric(ts: TestServer, name: string): Promise<number> {
  const text = await (await fetch(ts.url.replace('ws://', 'http://') + '/metrics')).text();
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

describe('PostgreSQL storage (a real server from Debian, started by the test)', { skip }, () => {
  before(async () => { pg = await startPostgres(); });
  after(() => pg?.destroy());

  storeContract('PostgreSQL', async () => new PostgresStore(await freshDatabase(), { poolSize: 2, timeoutMs: 5000 }), skip);

  test('down at start: streaming goes on; migrations and writes catch up once it is up; stored = received', async () => {
    const url = await freshDatabase();
    pg.stop();
    let ts: TestServer | null = null;
    try {
      ts = await startTestServer('uws', { storage: { databaseUrl: url, flushIntervalMs: 50, maxRetryDelayMs: 200, timeoutMs: 1000 } });
      const got = await streamTone(ts, 2);
      assert.ok(got.results.length >= 7, 'the client got every result while the database was down');
      assert.equal(await metric(ts, 'emostream_storage_up'), 0);
      pg.start();
      assert.deepEqual(await storedResults(ts, got.id, got.results.length), got.results);
      assert.equal(await metric(ts, 'emostream_storage_up'), 1);
      assert.equal(await metric(ts, 'emostream_storage_rows_dropped_total'), 0);
    } finally {
      await ts?.close();
    }
  });

  test('down mid-run: results keep flowing; storage catches up within its bound, and counts what it dropped beyond it', async () => {
    const url = await freshDatabase();
    const ts = await startTestServer('uws', { storage: { databaseUrl: url, flushIntervalMs: 50, maxRetryDelayMs: 200, timeoutMs: 1000, maxQueueRows: 100 } });
    try {
      let stopped = false;
      const got = await streamTone(ts, 3, (t) => {
        if (!stopped && t >= 1) { stopped = true; pg.stop(); }
      });
      assert.ok(got.results.length >= 11, `${got.results.length} results reached the client with the database down`);
      assert.ok(await metric(ts, 'emostream_storage_write_failures_total') >= 1);
      pg.start();
      // Fewer than maxQueueRows rows were waiting: nothing lost.
      assert.deepEqual(await storedResults(ts, got.id, got.results.length), got.results);
      assert.equal(await metric(ts, 'emostream_storage_rows_dropped_total'), 0);

      // Down again, with more rows than the queue holds: the excess is dropped and counted, the rest stored.
      pg.stop();
      const many = await Promise.all(Array.from({ length: 8 }, () => streamTone(ts, 4)));
      const received = many.reduce((a, m) => a + m.results.length, 0) + many.length * 2;
      const dropped = await metric(ts, 'emostream_storage_rows_dropped_total');
      assert.ok(received > 100 && dropped > 0, `received ${received} rows' worth, dropped ${dropped}`);
      pg.start();
      const base = ts.url.replace('ws://', 'http://');
      let stored = 0;
      for (let i = 0; i < 100; i++) {
        stored = 0;
        for (const m of many) {
          const r = await fetch(`${base}/v1/sessions/${m.id}/timeline`);
          if (r.status === 200) stored += ((await r.json()) as { results: unknown[] }).results.length;
        }
        if (await metric(ts, 'emostream_storage_queue_rows') === 0) break;
        await sleep(100);
      }
      assert.equal(await metric(ts, 'emostream_storage_queue_rows'), 0, 'caught up');
      assert.ok(stored > 0 && stored < received, `stored ${stored} of ${received}`);
    } finally {
      await ts.close();
    }
  });
});
