import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmoStreamClient, EmoSubscriber, type EmotionResult, type ServerMessage } from '../../../clients/node/index.js';
import { AU_VECTOR_LENGTH } from '../../../src/protocol/labels.js';
import { CSV_HEADER } from '../../../src/storage/csv.js';
import { toRow } from '../../../src/storage/compact.js';
import { SqliteStore } from '../../../src/storage/sqlite.js';
import { sampleResult, sampleSession } from '../../helpers/storage-fixtures.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'emo-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Streams `seconds` of a chirp (16 kHz, 20 ms chunks) with AU frames at 25 fps, at about real-time / `speedup`. */
async function stream(c: EmoStreamClient, seconds: number, speedup = 4, onChunk?: (ptsUs: number) => void): Promise<void> {
  const chunk = 320;
  for (let s = 0; s < seconds * 16000; s += chunk) {
    const pcm = new Int16Array(chunk);
    for (let i = 0; i < chunk; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * (180 + (s + i) / 50) * (s + i)) / 16000));
    const ptsUs = (s / 16000) * 1e6;
    c.sendAudio(pcm, { sampleRate: 16000, channels: 1, ptsUs });
    if (s % 640 === 0) c.sendAu(Array.from({ length: AU_VECTOR_LENGTH }, (_, j) => ((s / 640 + j * 3) % 11) / 5), ptsUs);
    onChunk?.(ptsUs);
    await sleep(20 / speedup);
  }
}

async function streamSession(ts: TestServer, seconds: number): Promise<{ id: string; results: EmotionResult[]; models: unknown[] }> {
  const c = await EmoStreamClient.connect({ url: ts.url, client: 'history-test' });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  await stream(c, seconds);
  await c.end();
  await reader;
  return { id: c.sessionId, results, models: c.welcome.models };
}

const http = (ts: TestServer) => ts.url.replace('ws://', 'http://');

async function getJson<T>(ts: TestServer, path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(http(ts) + path, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Polls until the session has `n` stored results (the write queue flushes every flushIntervalMs). */
async function waitStored(ts: TestServer, id: string, n: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await getJson<{ results: number }>(ts, `/v1/sessions/${id}`);
    if (r.status === 200 && r.body.results >= n) return;
    await sleep(50);
  }
  throw new Error(`session ${id} never had ${n} stored results`);
}

describe('session history over HTTP (SQLite)', () => {
  const file = join(dir, 'restart.sqlite');
  const opts = { storage: { databaseUrl: `sqlite:${file}`, flushIntervalMs: 50, maxPageResults: 10 } };
  let first: Awaited<ReturnType<typeof streamSession>>;

  test('the stored timeline equals what the client received, result for result, across a server restart', async () => {
    let ts = await startTestServer('uws', opts);
    try {
      first = await streamSession(ts, 3.2);
      await waitStored(ts, first.id, first.results.length);
      assert.ok(first.results.length >= 10, `${first.results.length} results`);
      // Paged: 10 per page at most (maxPageResults), next page from x-next-from-hop.
      const pages: EmotionResult[] = [];
      for (let from: number | null = 0; from !== null;) {
        const r: { status: number; body: { results: EmotionResult[]; nextFromHop: number | null } } = await getJson(ts, `/v1/sessions/${first.id}/timeline?fromHop=${from}`);
        assert.equal(r.status, 200);
        assert.ok(r.body.results.length <= 10);
        pages.push(...r.body.results);
        from = r.body.nextFromHop;
      }
      assert.deepEqual(pages, first.results);
    } finally {
      await ts.close();
    }
    ts = await startTestServer('ws', opts);
    try {
      await waitStored(ts, first.id, first.results.length);
      const all: EmotionResult[] = [];
      for (let from = 0; ; from += 10) {
        const r = await getJson<{ results: EmotionResult[] }>(ts, `/v1/sessions/${first.id}/timeline?fromHop=${from}&limit=10`);
        all.push(...r.body.results);
        if (r.body.results.length < 10) break;
      }
      assert.deepEqual(all, first.results, 'after the restart');

      const list = await getJson<{ sessions: { id: string; owner: string; endReason: string; client: string; models: { name: string }[] }[] }>(ts, '/v1/sessions');
      const mine = list.body.sessions.find((s) => s.id === first.id)!;
      assert.equal(mine.owner, 'anonymous');
      assert.equal(mine.endReason, 'client-end');
      // The models the session ran with, each with the hash of its files as its version.
      assert.deepEqual(mine.models.map((m) => ({ ...m, version: undefined })), first.models.map((m) => ({ ...(m as object), version: undefined })));
      const versions = Object.fromEntries(mine.models.map((m) => [m.name, (m as { version?: string }).version]));
      assert.match(versions['tiny-speech'] ?? '', /^[0-9a-f]{12}$/);
      assert.match(versions['tiny-face'] ?? '', /^[0-9a-f]{12}$/);
      assert.notEqual(versions['tiny-speech'], versions['tiny-face']);

      const summary = await getJson<{
        results: number; durationS: number; coverage: { voice: number; face: number }; labelShares: Record<string, number>;
        meanPosteriors: { voice: Record<string, number> | null }; dominantPerMinute: { minute: number; label: string }[]; alerts: unknown[];
      }>(ts, `/v1/sessions/${first.id}`);
      assert.equal(summary.status, 200);
      assert.equal(summary.body.results, first.results.length);
      assert.equal(summary.body.coverage.voice, 1);
      const last = first.results[first.results.length - 1];
      assert.equal(summary.body.durationS, (last.windowEndUs - first.results[0].windowStartUs) / 1e6);
      const shares = Object.values(summary.body.labelShares).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(shares - 1) < 1e-3, `label shares sum to ${shares}`);
      const meanNeutral = first.results.reduce((a, r) => a + r.speech!.probs[0], 0) / first.results.length;
      assert.ok(Math.abs(summary.body.meanPosteriors.voice!.neutral - meanNeutral) < 1e-3);
      assert.equal(summary.body.dominantPerMinute.length, 1);
      assert.deepEqual(summary.body.alerts, []);

      const csv = await fetch(`${http(ts)}/v1/sessions/${first.id}/timeline?format=csv&limit=10`);
      assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.equal(csv.headers.get('x-next-from-hop'), '10');
      const lines = (await csv.text()).trim().split('\n');
      assert.equal(lines[0], CSV_HEADER);
      assert.equal(lines.length, 11);
      assert.equal(lines[1].split(',')[3], first.results[0].fused!.label);
    } finally {
      await ts.close();
    }
  });

  test('unknown session 404, bad parameters 400, DELETE erases everything of a session', async () => {
    const ts = await startTestServer('uws', opts);
    try {
      const missing = await getJson<{ code: string }>(ts, '/v1/sessions/no-such-session');
      assert.deepEqual([missing.status, missing.body.code], [404, 'EMO_ERR_UNKNOWN_SESSION']);
      assert.equal((await getJson(ts, '/v1/sessions/no-such-session/timeline')).status, 404);
      assert.equal((await getJson(ts, '/v1/sessions/no-such-session', { method: 'DELETE' })).status, 404);
      const bad = await getJson<{ code: string; message: string }>(ts, `/v1/sessions/${first.id}/timeline?format=xml`);
      assert.deepEqual([bad.status, bad.body.code], [400, 'EMO_ERR_BAD_MESSAGE']);
      assert.match(bad.body.message, /format=xml/);
      assert.equal((await getJson(ts, '/v1/sessions?limit=0')).status, 400);
      assert.equal((await getJson(ts, '/v1/sessions?from=yesterday')).status, 400);
      // Paged list: newest first, cursor to the next page.
      const s2 = await streamSession(ts, 0.8);
      await waitStored(ts, s2.id, s2.results.length);
      const p1 = await getJson<{ sessions: { id: string }[]; nextCursor: string }>(ts, '/v1/sessions?limit=1');
      assert.equal(p1.body.sessions[0].id, s2.id);
      const p2 = await getJson<{ sessions: { id: string }[] }>(ts, `/v1/sessions?limit=1&cursor=${p1.body.nextCursor}`);
      assert.equal(p2.body.sessions[0].id, first.id);

      const del = await fetch(`${http(ts)}/v1/sessions/${first.id}`, { method: 'DELETE' });
      assert.equal(del.status, 204);
      assert.equal((await getJson(ts, `/v1/sessions/${first.id}`)).status, 404);
      assert.equal((await getJson(ts, `/v1/sessions/${first.id}/timeline`)).status, 404);
    } finally {
      await ts.close();
    }
  });

  test('retention: sessions older than storage.retentionDays are erased at start (then daily), newer ones kept', async () => {
    const file = join(dir, 'retention.sqlite');
    const store = new SqliteStore(file, 100);
    await store.migrate();
    const day = 86_400_000;
    const old = sampleSession('old-one', Date.now() - 8 * day);
    const recent = sampleSession('recent-one', Date.now() - 6 * day);
    await store.writeBatch({ sessions: [old, recent], results: [toRow(sampleResult(old.id, 0)), toRow(sampleResult(recent.id, 0))], alerts: [], ends: [] });
    await store.close();
    const ts = await startTestServer('ws', { storage: { databaseUrl: `sqlite:${file}`, retentionDays: 7 } });
    try {
      let status = 200;
      for (let i = 0; i < 100 && status === 200; i++) {
        status = (await getJson(ts, `/v1/sessions/${old.id}`)).status;
        if (status === 200) await sleep(20);
      }
      assert.equal(status, 404, 'the 8-day-old session is gone');
      const kept = await getJson<{ results: EmotionResult[] }>(ts, `/v1/sessions/${recent.id}/timeline`);
      assert.deepEqual(kept.body.results, [sampleResult(recent.id, 0)]);
    } finally {
      await ts.close();
    }
  });

  test('a history file that is not a database stops the start with a message naming it', async () => {
    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, 'not a database '.repeat(100));
    await assert.rejects(startTestServer('ws', { storage: { databaseUrl: `sqlite:${junk}` } }), (e: Error) => e.message.includes(junk) && /not an SQLite database/.test(e.message));
  });

  test('a late joiner gets the stored results from HOP, then the live ones: no gap, no duplicate', async () => {
    const ts = await startTestServer('uws', { storage: { databaseUrl: `sqlite:${join(dir, 'late.sqlite')}`, flushIntervalMs: 200 } });
    try {
      const c = await EmoStreamClient.connect({ url: ts.url, client: 'late-join' });
      const results: EmotionResult[] = [];
      const reader = (async () => { for await (const r of c.results()) results.push(r); })();
      const subMsgs: ServerMessage[] = [];
      let joined: Promise<void> | null = null;
      // Join mid-stream, while some results are written and others still queued (flush every 200 ms).
      await stream(c, 4, 2, () => {
        if (!joined && results.length >= 5) {
          joined = (async () => {
            const sub = await EmoSubscriber.connect(ts.url, c.sessionId, 5000, { since: 2 });
            for await (const m of sub.messages()) subMsgs.push(m);
          })();
        }
      });
      await c.end();
      await reader;
      assert.ok(joined, 'joined');
      await joined;
      const subscribed = subMsgs[0];
      assert.equal(subscribed.type, 'subscribed');
      assert.ok(subscribed.type === 'subscribed' && subscribed.replay && subscribed.replay.fromHop === 2 && subscribed.replay.results >= 3, JSON.stringify(subscribed));
      const got = subMsgs.filter((m): m is EmotionResult => m.type === 'emotion');
      assert.deepEqual(got.map((r) => r.hop), results.filter((r) => r.hop >= 2).map((r) => r.hop));
      assert.deepEqual(got, results.filter((r) => r.hop >= 2));
      assert.equal(subMsgs[subMsgs.length - 1].type, 'end');
      const bad = await EmoSubscriber.connect(ts.url, c.sessionId, 5000, { since: 0 });
      const msgs: ServerMessage[] = [];
      for await (const m of bad.messages()) msgs.push(m);
      assert.equal(msgs[0].type === 'error' && msgs[0].code, 'EMO_ERR_UNKNOWN_SESSION', 'an ended session has no live part to join');
    } finally {
      await ts.close();
    }
  });
});
