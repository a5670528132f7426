/**
 * The 1-hour timeline (7,200 results) from PostgreSQL before and after, side by side in one process, alternating:
 * `timeline()` rows (one JS row object of 9 fields per result) + the body built on the event loop + UTF-8 encoding,
 * against `timelinePage()` (4 columns as arrays, each result's JSON from its stored text). Starts a throw-away
 * Debian PostgreSQL as the tests do (root and the postgres user needed). CPU time is this process's only: the
 * database's own work shows in wall time.
 *
 *   nice -n 15 node --import tsx bench/storage-pg-ab.ts -- [--sessions 4] [--reps 20] [--out bench/results/storage-s8/pg-ab.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../clients/node/timeline.js';
import { timelineJson, toRow } from '../src/storage/compact.js';
import { PostgresStore } from '../src/storage/postgres.js';
import { postgresSkip, startPostgres } from '../tests/helpers/postgres.js';
import { benchResult } from './storage-result.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '4' },
    reps: { type: 'string', default: '20' },
    out: { type: 'string', default: join('bench', 'results', 'storage-s8', 'pg-ab.json') },
  },
});
const skip = postgresSkip();
if (skip) {
  console.log(`PostgreSQL bench skipped: ${skip}`);
  process.exit(0);
}
const HOPS = 7200;
const pg = await startPostgres();
try {
  const store = new PostgresStore(pg.url, { poolSize: 4, timeoutMs: 30_000 });
  await store.migrate();
  const ids = Array.from({ length: Number(args.sessions) }, (_, i) => `hour-${i}`);
  await store.writeBatch({ sessions: ids.map((id) => ({ id, owner: 'bench', startedAtMs: Date.now(), endedAtMs: null, endReason: null, client: null, transport: null, models: [], windowMs: 3000, hopMs: 500 })), results: [], alerts: [], ends: [] });
  for (let h0 = 0; h0 < HOPS; h0 += 250) {
    const rows = [];
    for (let h = h0; h < Math.min(HOPS, h0 + 250); h++) for (const id of ids) rows.push(toRow(benchResult(id, h)));
    await store.writeBatch({ sessions: [], results: rows, alerts: [], ends: [] });
  }
  const q = { sessionId: ids[0], limit: 10_000 };
  const readers: Record<string, () => Promise<Uint8Array>> = {
    rows: async () => Buffer.from(timelineJson(q.sessionId, await store.timeline(q), null)),
    page: async () => (await store.timelinePage(q)).json,
  };
  const expected = Buffer.from(timelineJson(q.sessionId, await store.timeline(q), null));
  if (!Buffer.from((await store.timelinePage(q)).json).equals(expected)) throw new Error('page differs from the rows body');
  const wall: Record<string, number[]> = { rows: [], page: [] };
  const cpu: Record<string, number[]> = { rows: [], page: [] };
  for (let rep = 0; rep < Number(args.reps); rep++) {
    for (const name of rep % 2 ? ['rows', 'page'] : ['page', 'rows']) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const body = await readers[name]();
      wall[name].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[name].push((c.user + c.system) / 1000);
      if (body.length !== expected.length) throw new Error(`${name}: ${body.length} bytes`);
    }
  }
  await store.close();
  const round = (x: number) => Number(x.toFixed(2));
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50Ms: round(percentile(s, 50)!), p95Ms: round(percentile(s, 95)!), minMs: round(s[0]) };
  };
  const report = {
    bench: 'storage-pg-ab', results: HOPS, sessionsInterleaved: ids.length, reps: Number(args.reps), jsonBytes: expected.length,
    rows: { wall: stats(wall.rows), cpuThisProcess: stats(cpu.rows) }, page: { wall: stats(wall.page), cpuThisProcess: stats(cpu.page) },
    machine: { cpus: cpus().length, node: process.version, loadavgAtEnd: loadavg().map(round), postgres: 'Debian PostgreSQL 15, fsync off, shared_buffers 16MB, loopback' },
    date: new Date().toISOString(),
  };
  mkdirSync(dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, JSON.stringify(report, null, 2) + '\n');
  console.log(`PostgreSQL 1-hour timeline: rows path wall p50 ${report.rows.wall.p50Ms} ms (this process's CPU ${report.rows.cpuThisProcess.p50Ms} ms), ` +
    `page path wall p50 ${report.page.wall.p50Ms} ms (CPU ${report.page.cpuThisProcess.p50Ms} ms), load average ${report.machine.loadavgAtEnd[0]} -> ${args.out}`);
} finally {
  pg.destroy();
}
