import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { SQLITE_PAGE_BYTES, SqliteStore } from '../../../src/storage/sqlite.js';
import { SqliteThreadStore } from '../../../src/storage/sqlite-thread.js';
import { ProtocolError } from '../../../src/protocol/v1/errors.js';
import { createStorageMetrics } from '../../../src/storage/metrics.js';
import { WriteQueue } from '../../../src/storage/write-queue.js';
import { timelineJson, toRow } from '../../../src/storage/compact.js';
import { storageTarget } from '../../../src/storage/target.js';
import { storeContract } from '../../helpers/store-contract.js';
import { sampleResult, sampleSession } from '../../helpers/storage-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'emo-sqlite-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `db-${process.pid}-${n++}`, 'emostream.sqlite');

storeContract('SQLite', async () => new SqliteStore(freshPath(), 20));
storeContract('SQLite on its worker thread', async () => SqliteThreadStore.open(freshPath(), 20));

test('storage target: unset = SQLite under dataDir; sqlite:PATH; postgres://; none; anything else is a clear error', () => {
  assert.deepEqual(storageTarget(undefined, '/srv/emo'), { kind: 'sqlite', path: '/srv/emo/emostream.sqlite' });
  assert.deepEqual(storageTarget('sqlite:/tmp/x.db', 'data'), { kind: 'sqlite', path: '/tmp/x.db' });
  assert.deepEqual(storageTarget('none', 'data'), { kind: 'none' });
  assert.deepEqual(storageTarget('postgres://u:p@h:5/db', 'data'), { kind: 'postgres', url: 'postgres://u:p@h:5/db' });
  assert.throws(() => storageTarget('mysql://u:secret@h/db', 'data'), (e: Error) => /postgres:\/\/\.\.\., sqlite:PATH, none/.test(e.message) && !e.message.includes('secret'));
});

test('a file that is not a database, or a data folder that cannot be created, is a clear error at open', async () => {
  const junk = join(dir, 'junk.sqlite');
  writeFileSync(junk, 'this is not an sqlite file, just text that is long enough to fill a header page'.repeat(20));
  assert.throws(() => new SqliteStore(junk, 20), (e: unknown) => e instanceof ProtocolError && /not an SQLite database/.test(e.message) && e.message.includes(junk));
  await assert.rejects(SqliteThreadStore.open(junk, 20), (e: unknown) => e instanceof ProtocolError && /not an SQLite database/.test(e.message) && !e.transient);
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'x');
  assert.throws(() => new SqliteStore(join(blocker, 'sub', 'emostream.sqlite'), 20), (e: unknown) => e instanceof ProtocolError && /is a file, not a folder/.test(e.message));
});

test('a database newer than this server is refused with its version', async () => {
  const path = freshPath();
  const store = new SqliteStore(path, 20);
  await store.migrate();
  await store.close();
  const raw = new Database(path);
  raw.prepare('INSERT INTO emostream_migrations (version, name, applied_at_ms) VALUES (99, ?, 0)').run('future');
  raw.close();
  const again = new SqliteStore(path, 20);
  await assert.rejects(again.migrate(), /schema version 99, newer than this server's 1/);
  await again.close();
});

test('write queue: a database locked by another process fails writes (retried), the queue stays bounded and counts drops, then catches up', async () => {
  const path = freshPath();
  const store = new SqliteStore(path, 5);
  await store.migrate();
  const registry = new Registry();
  const metrics = createStorageMetrics(registry);
  const logs: string[] = [];
  const queue = new WriteQueue(store, true, metrics, { maxQueueRows: 300, batchRows: 100, flushIntervalMs: 10, maxRetryDelayMs: 40, log: (_l, m) => logs.push(m) });
  // Another connection (as another process would) holds the write lock.
  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  const s = sampleSession('locked', Date.now());
  queue.pushSession(s);
  for (let h = 0; h < 500; h++) queue.pushResult(toRow(sampleResult(s.id, h)));
  assert.equal(queue.depth, 300, 'bounded');
  await new Promise((r) => setTimeout(r, 150));
  const dropped = (await registry.getSingleMetric('emostream_storage_rows_dropped_total')!.get()).values.reduce((a, v) => a + v.value, 0);
  assert.equal(dropped, 201);
  assert.ok((await registry.getSingleMetric('emostream_storage_write_failures_total')!.get()).values[0].value >= 2, 'retried');
  assert.ok(logs.some((l) => /locked by another process/.test(l)), logs.join('\n'));
  assert.equal(logs.filter((l) => /write failed/.test(l)).length, 1, 'one log line per outage');
  other.exec('ROLLBACK');
  other.close();
  for (let i = 0; i < 100 && queue.depth > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(queue.depth, 0);
  const stored = await store.timeline({ sessionId: s.id, limit: 1000 });
  assert.deepEqual(stored.map((r) => r.hop), Array.from({ length: 299 }, (_, h) => h));
  assert.ok(logs.some((l) => /writes again; 201 rows were dropped/.test(l)), logs.join('\n'));
  await queue.close(1000);
  await store.close();
});

test('a file written before 16 kB pages (4 kB pages, each result overflowing its page) reads the same; new files get 16 kB pages', async () => {
  const old = freshPath();
  // As the previous release created it: a WAL file of 4 kB pages, the same schema.
  mkdirSync(dirname(old), { recursive: true });
  const raw = new Database(old);
  raw.pragma('page_size = 4096');
  raw.pragma('journal_mode = WAL');
  raw.close();
  const s = sampleSession('old-file', Date.now());
  const results = Array.from({ length: 300 }, (_, h) => sampleResult(s.id, h));
  const before = new SqliteStore(old, 20);
  await before.migrate();
  await before.writeBatch({ sessions: [s], results: results.map(toRow), alerts: [], ends: [] });
  await before.close();
  const check = new Database(old, { readonly: true });
  assert.equal(check.pragma('page_size', { simple: true }), 4096, 'an existing file keeps its page size');
  check.close();
  const store = await SqliteThreadStore.open(old, 20);
  await store.migrate();
  const page = await store.timelinePage({ sessionId: s.id, fromHop: 100, limit: 150 });
  assert.equal(Buffer.from(page.json).toString(), timelineJson(s.id, results.slice(100, 250).map(toRow), 250));
  assert.deepEqual((JSON.parse(Buffer.from(page.json).toString()) as { results: unknown[] }).results, results.slice(100, 250));
  await store.close();
  const fresh = freshPath();
  const created = new SqliteStore(fresh, 20);
  await created.migrate();
  await created.close();
  const reopened = new Database(fresh, { readonly: true });
  assert.equal(reopened.pragma('page_size', { simple: true }), SQLITE_PAGE_BYTES);
  reopened.close();
});
