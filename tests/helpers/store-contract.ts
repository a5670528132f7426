import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromRow, rowJson, timelineJson, toRow } from '../../src/storage/compact.js';
import type { Store } from '../../src/storage/types.js';
import { sampleResult, sampleSession } from './storage-fixtures.js';

/**
 * The behaviour every Store must have (SQLite and PostgreSQL run the same checks): migrations idempotent, batches
 * round-trip results exactly, lists and timelines page, delete and purge erase everything of a session.
 */
export function storeContract(name: string, open: () => Promise<Store>, skip: string | false = false): void {
  test(`${name}: migrations are versioned and idempotent; a result round-trips exactly, later fields included`, { skip }, async () => {
    const store = await open();
    try {
      await store.migrate();
      await store.migrate();
      const s = sampleSession('s-rt', 1_700_000_000_000);
      const results = Array.from({ length: 12 }, (_, h) => sampleResult(s.id, h));
      await store.writeBatch({ sessions: [s], results: results.map(toRow), alerts: [], ends: [] });
      // Written twice (a retried batch): no duplicates.
      await store.writeBatch({ sessions: [s], results: results.slice(0, 3).map(toRow), alerts: [], ends: [{ id: s.id, endedAtMs: s.startedAtMs + 9000, endReason: 'client-end' }] });
      const stored = await store.timeline({ sessionId: s.id, limit: 100 });
      const back = stored.map(fromRow);
      assert.deepEqual(back, results);
      // The JSON built from the stored text is the client's JSON (same keys, same order).
      assert.deepEqual(stored.map(rowJson), results.map((r) => JSON.stringify(r)));
      assert.deepEqual((back[0] as unknown as { smoothed: unknown }).smoothed, (results[0] as unknown as { smoothed: unknown }).smoothed);
      const got = await store.getSession(s.id);
      assert.deepEqual(got, { ...s, endedAtMs: s.startedAtMs + 9000, endReason: 'client-end' });
      assert.equal(await store.getSession('nope'), null);
    } finally {
      await store.close();
    }
  });

  test(`${name}: sessions list by owner and time, paged; timelines page by hop and time; alerts kept`, { skip }, async () => {
    const store = await open();
    try {
      await store.migrate();
      const t0 = 1_800_000_000_000;
      const sessions = Array.from({ length: 7 }, (_, i) => sampleSession(`s-list-${i}`, t0 + i * 1000, i % 2 ? 'alice' : 'bob'));
      const long = sessions[0];
      const rows = Array.from({ length: 2500 }, (_, h) => toRow(sampleResult(long.id, h)));
      const alert = { type: 'alert' as const, sessionId: long.id, rule: 'angry-5s', hop: 40, atUs: 23_000_000, kind: 'label' as const, value: 0.71, message: 'anger above 0.6 for 5 s' };
      await store.writeBatch({ sessions, results: rows, alerts: [alert], ends: [] });
      const page1 = await store.listSessions({ limit: 3, fromMs: t0 });
      assert.deepEqual(page1.map((s) => s.id), ['s-list-6', 's-list-5', 's-list-4']);
      const last = page1[2];
      const page2 = await store.listSessions({ limit: 3, fromMs: t0, before: { startedAtMs: last.startedAtMs, id: last.id } });
      assert.deepEqual(page2.map((s) => s.id), ['s-list-3', 's-list-2', 's-list-1']);
      assert.deepEqual((await store.listSessions({ limit: 10, owner: 'alice', fromMs: t0 })).map((s) => s.id), ['s-list-5', 's-list-3', 's-list-1']);
      assert.deepEqual((await store.listSessions({ limit: 10, fromMs: t0 + 2000, toMs: t0 + 4000 })).map((s) => s.id), ['s-list-3', 's-list-2']);
      const first = await store.timeline({ sessionId: long.id, limit: 1000 });
      assert.equal(first.length, 1000);
      const second = await store.timeline({ sessionId: long.id, fromHop: first[999].hop + 1, limit: 1000 });
      assert.deepEqual([second[0].hop, second[999].hop], [1000, 1999]);
      const window = await store.timeline({ sessionId: long.id, fromUs: 10_000_000, toUs: 12_000_000, limit: 100 });
      assert.ok(window.every((r) => r.windowEndUs >= 10_000_000 && r.windowStartUs < 12_000_000) && window.length === 10);
      // The API's page body, built by the database, is the body built from the rows, byte for byte.
      for (const q of [{ limit: 1000 }, { fromHop: 1000, limit: 1000 }, { fromHop: 2400, limit: 1000 }, { fromUs: 10_000_000, toUs: 12_000_000, limit: 100 }, { fromHop: 9999, limit: 5 }]) {
        const query = { sessionId: long.id, ...q };
        const rowsOfPage = await store.timeline(query);
        const next = rowsOfPage.length === q.limit ? rowsOfPage[rowsOfPage.length - 1].hop + 1 : null;
        const page = await store.timelinePage(query);
        assert.equal(Buffer.from(page.json).toString(), timelineJson(long.id, rowsOfPage, next), JSON.stringify(q));
        assert.deepEqual([page.results, page.nextFromHop], [rowsOfPage.length, next]);
      }
      assert.deepEqual(await store.alerts(long.id), [alert]);
      assert.equal(await store.deleteSession(long.id), true);
      assert.equal(await store.deleteSession(long.id), false);
      assert.equal((await store.timeline({ sessionId: long.id, limit: 10 })).length, 0);
      assert.equal((await store.alerts(long.id)).length, 0);
      assert.equal(await store.getSession(long.id), null);
      assert.equal(await store.purgeBefore(t0 + 3500), 3);
      assert.deepEqual((await store.listSessions({ limit: 10, fromMs: t0 })).map((s) => s.id), ['s-list-6', 's-list-5', 's-list-4']);
    } finally {
      await store.close();
    }
  });

  test(`${name}: a timeline page's JSON keeps quotes, backslashes and non-ASCII text of ids and results exactly`, { skip }, async () => {
    const store = await open();
    try {
      await store.migrate();
      const s = sampleSession('s-"quoted"\\ é 😀', 1_700_000_000_000);
      const results = Array.from({ length: 3 }, (_, h) => sampleResult(s.id, h));
      (results[1] as unknown as { note: string }).note = 'ünïcødé "q" \\ 😀 \u2028';
      const rows = results.map(toRow);
      // A result with nothing beyond its columns (a body of `{}`).
      rows.push({ ...rows[0], hop: 3, body: '{}' });
      await store.writeBatch({ sessions: [s], results: rows, alerts: [], ends: [] });
      const page = await store.timelinePage({ sessionId: s.id, limit: 10 });
      const text = Buffer.from(page.json).toString();
      assert.equal(text, timelineJson(s.id, await store.timeline({ sessionId: s.id, limit: 10 }), null));
      const parsed = JSON.parse(text) as { sessionId: string; results: unknown[]; nextFromHop: null };
      assert.deepEqual(parsed.results.slice(0, 3), results);
      assert.deepEqual(parsed.results[3], { type: 'emotion', sessionId: s.id, hop: 3, windowStartUs: rows[0].windowStartUs, windowEndUs: rows[0].windowEndUs });
      const none = await store.timelinePage({ sessionId: 'no-such-session', limit: 10 });
      assert.deepEqual([Buffer.from(none.json).toString(), none.results, none.nextFromHop], ['{"sessionId":"no-such-session","results":[],"nextFromHop":null}', 0, null]);
    } finally {
      await store.close();
    }
  });
}
