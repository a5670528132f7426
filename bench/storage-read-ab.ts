/**
 * The 1-hour timeline read (7,200 results) before and after, side by side in one process, alternating variants so
 * that a busy machine slows all of them alike (issue 22's missed target):
 *
 *   A  before: a 4 kB-page file (as created before), `timeline()` rows across the worker boundary, then the body
 *      built on the event loop (`timelineJson`) and encoded to bytes (as the HTTP transport must);
 *   B  the new read (`timelinePage`: the database builds the body, one buffer handed over) on that old file;
 *   C  the old read on a 16 kB-page file;
 *   D  after: `timelinePage` on a 16 kB-page file (what a new server does).
 *
 * The sessions are written interleaved as live ones are (hop by hop across `--sessions`), through the store on its
 * worker thread as in the server. Wall and CPU time (both threads) per read; then each stage alone (CPU time).
 *
 *   nice -n 15 node --import tsx bench/storage-read-ab.ts -- [--sessions 16] [--reps 20] [--out bench/results/storage-s8/read-ab.json]
 */
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { percentile } from '../clients/node/timeline.js';
import { timelineJson, toRow } from '../src/storage/compact.js';
import { SqliteStore } from '../src/storage/sqlite.js';
import { SqliteThreadStore } from '../src/storage/sqlite-thread.js';
import type { Store } from '../src/storage/types.js';
import { benchResult } from './storage-result.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '16' },
    reps: { type: 'string', default: '20' },
    out: { type: 'string', default: join('bench', 'results', 'storage-s8', 'read-ab.json') },
  },
});
const HOPS = 7200;
const nSessions = Number(args.sessions);
const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-read-ab-'));
try {
  const files = { old4k: join(dir, 'old-4k.sqlite'), new16k: join(dir, 'new-16k.sqlite') };
  // The file as the previous release created it: 4 kB pages (SQLite's default), WAL.
  const raw = new Database(files.old4k);
  raw.pragma('page_size = 4096');
  raw.pragma('journal_mode = WAL');
  raw.close();
  const stores: Record<keyof typeof files, Store> = {
    old4k: await SqliteThreadStore.open(files.old4k, 1000),
    new16k: await SqliteThreadStore.open(files.new16k, 1000),
  };
  const ids = Array.from({ length: nSessions }, (_, i) => `hour-${i}`);
  const writeS: Record<string, number> = {};
  for (const [name, store] of Object.entries(stores)) {
    await store.migrate();
    const t0 = performance.now();
    await store.writeBatch({ sessions: ids.map((id) => ({ id, owner: 'bench', startedAtMs: Date.now(), endedAtMs: null, endReason: null, client: null, transport: null, models: [], windowMs: 3000, hopMs: 500 })), results: [], alerts: [], ends: [] });
    // Batches of 1,000 rows (storage.batchRows), hop by hop across the sessions, as the write queue sees live ones.
    let batch = [];
    for (let h = 0; h < HOPS; h++) {
      for (const id of ids) batch.push(toRow(benchResult(id, h)));
      if (batch.length >= 1000 || h === HOPS - 1) {
        await store.writeBatch({ sessions: [], results: batch, alerts: [], ends: [] });
        batch = [];
      }
    }
    writeS[name] = (performance.now() - t0) / 1000;
  }

  const probe = ids[Math.floor(nSessions / 2)];
  const q = { sessionId: probe, limit: 10_000 };
  const variants: Record<string, { store: Store; read: (s: Store) => Promise<number> }> = {
    'A old4k+rows': { store: stores.old4k, read: async (s) => Buffer.from(timelineJson(probe, await s.timeline(q), null)).length },
    'B old4k+page': { store: stores.old4k, read: async (s) => (await s.timelinePage(q)).json.length },
    'C new16k+rows': { store: stores.new16k, read: async (s) => Buffer.from(timelineJson(probe, await s.timeline(q), null)).length },
    'D new16k+page': { store: stores.new16k, read: async (s) => (await s.timelinePage(q)).json.length },
  };
  // Same bytes from every variant, and they are the API's body.
  const bodies = await Promise.all(Object.values(variants).map(async (v) => Buffer.from((await v.store.timelinePage(q)).json).toString()));
  const expected = timelineJson(probe, await stores.old4k.timeline(q), null);
  if (!bodies.every((b) => b === expected)) throw new Error('variants differ');
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const names = Object.keys(variants);
  for (const v of Object.values(variants)) await v.read(v.store); // warm-up: page cache, prepared statements
  for (let rep = 0; rep < Number(args.reps); rep++) {
    // A different order each repetition: none always runs first or after the same one.
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + rep) % names.length];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const bytes = await variants[name].read(variants[name].store);
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (bytes !== Buffer.byteLength(expected)) throw new Error(`${name}: ${bytes} bytes`);
      (wall[name] ??= []).push(ms);
      (cpu[name] ??= []).push((c.user + c.system) / 1000);
    }
  }
  // Where the time goes: each stage alone, on both files, with a second connection on this thread for the in-thread
  // figures (the worker hop is then the difference), CPU time of both threads.
  const local = { old4k: new SqliteStore(files.old4k, 1000), new16k: new SqliteStore(files.new16k, 1000) };
  const rowsOf = await stores.old4k.timeline(q);
  const bodyOf = timelineJson(probe, rowsOf, null);
  const stages: Record<string, () => Promise<unknown>> = {};
  for (const f of ['old4k', 'new16k'] as const) {
    stages[`${f} rows: SELECT + row objects, in-thread`] = () => local[f].timeline(q);
    stages[`${f} rows: the same through the worker (+ structured clone)`] = () => stores[f].timeline(q);
    stages[`${f} page: SQLite writes the JSON, in-thread`] = () => local[f].timelinePage(q);
    stages[`${f} page: the same through the worker (+ transfer)`] = () => stores[f].timelinePage(q);
  }
  stages['timelineJson on 7,200 rows (event loop)'] = async () => timelineJson(probe, rowsOf, null);
  stages['UTF-8 encoding of that string (the transport, string body)'] = async () => Buffer.from(bodyOf);
  const stageCpu: Record<string, number[]> = {};
  const stageNames = Object.keys(stages);
  for (let rep = 0; rep < Number(args.reps); rep++) {
    for (let k = 0; k < stageNames.length; k++) {
      const name = stageNames[(k + rep) % stageNames.length];
      const c0 = process.cpuUsage();
      await stages[name]();
      const c = process.cpuUsage(c0);
      (stageCpu[name] ??= []).push((c.user + c.system) / 1000);
    }
  }
  for (const s of [...Object.values(stores), ...Object.values(local)]) await s.close();
  const round = (x: number) => Number(x.toFixed(2));
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50Ms: round(percentile(s, 50)!), p95Ms: round(percentile(s, 95)!), minMs: round(s[0]), maxMs: round(s[s.length - 1]) };
  };
  let commit = 'unknown';
  try { commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { /* not a checkout */ }
  const report = {
    bench: 'storage-read-ab', what: 'the 1-hour timeline (7,200 results) read through the SQLite store on its worker thread, ending with the body as bytes',
    results: HOPS, sessionsInterleaved: nSessions, reps: Number(args.reps), jsonBytes: Buffer.byteLength(expected), targetMs: 50,
    variants: Object.fromEntries(names.map((n) => [n, { wall: stats(wall[n]), cpu: stats(cpu[n]) }])),
    stagesCpu: Object.fromEntries(stageNames.map((n) => [n, stats(stageCpu[n])])),
    files: Object.fromEntries(Object.entries(files).map(([n, f]) => [n, { bytesPerResult: round(statSync(f).size / (HOPS * nSessions)), writeSeconds: round(writeS[n]) }])),
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGb: Number((totalmem() / 2 ** 30).toFixed(1)),
      platform: `${platform()} ${release()} ${arch()}`, node: process.version, loadavgAtEnd: loadavg().map(round), nice: 'run under nice -n 15',
    },
    commit, date: new Date().toISOString(),
  };
  mkdirSync(dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, JSON.stringify(report, null, 2) + '\n');
  for (const n of names) console.log(`${n.padEnd(14)} wall p50 ${report.variants[n].wall.p50Ms} ms p95 ${report.variants[n].wall.p95Ms} ms; CPU p50 ${report.variants[n].cpu.p50Ms} ms`);
  for (const n of stageNames) console.log(`  ${n.padEnd(62)} CPU p50 ${report.stagesCpu[n].p50Ms} ms`);
  console.log(`files: ${JSON.stringify(report.files)}; load average ${report.machine.loadavgAtEnd[0]} -> ${args.out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
