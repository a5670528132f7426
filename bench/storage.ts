/**
 * History storage bench (SQLite, the default store, on its worker thread as in the server): sustained writes through
 * the real write queue (the path every result takes), and reading back the timeline of a 1-hour session (7,200 results at the 500 ms hop) as the timeline
 * API does (the body built by SQLite from the stored text, handed over from the worker as bytes), and the same read as
 * it was done before (rows across the worker boundary, the body built on the event loop), alternating. Writes JSON with
 * the machine's details.
 *
 *   npm run bench:storage -- [--results 200000] [--sessions 128] [--reads 30] [--out bench/results/storage-sqlite.json]
 *
 * Targets (issue 22): >= 10,000 results/s sustained; the 1-hour timeline in <= 50 ms.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { percentile } from '../clients/node/timeline.js';
import type { EmotionResult } from '../src/protocol/v1/messages.js';
import { timelineJson, toRow } from '../src/storage/compact.js';
import { createStorageMetrics } from '../src/storage/metrics.js';
import { benchResult as result } from './storage-result.js';
import { SQLITE_PAGE_BYTES } from '../src/storage/sqlite.js';
import { SqliteThreadStore } from '../src/storage/sqlite-thread.js';
import { WriteQueue } from '../src/storage/write-queue.js';
import { loadConfig } from '../src/server/config.js';
import { RouteTable } from '../src/server/routes.js';
import { ServerAuth } from '../src/auth/index.js';
import { registerHistoryRoutes } from '../src/storage/http.js';
import { History } from '../src/storage/recorder.js';
import { pino } from 'pino';

const { values: args } = parseArgs({
  options: {
    results: { type: 'string', default: '200000' },
    sessions: { type: 'string', default: '128' },
    reads: { type: 'string', default: '30' },
    out: { type: 'string', default: join('bench', 'results', 'storage-sqlite.json') },
  },
});

const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-storage-'));
try {
  const cfg = loadConfig({ env: {} }).storage;
  // The server's SQLite path: the store on its own worker thread.
  const store = await SqliteThreadStore.open(join(dir, 'history.sqlite'), cfg.busyTimeoutMs);
  await store.migrate();
  const metrics = createStorageMetrics(new Registry());
  const queue = new WriteQueue(store, true, metrics, {
    maxQueueRows: cfg.maxQueueRows, batchRows: cfg.batchRows, flushIntervalMs: cfg.flushIntervalMs, maxRetryDelayMs: cfg.maxRetryDelayMs,
    log: (level, msg) => console.log(`[${level}] ${msg}`),
  });

  // 1. Sustained writes: `sessions` sessions, one result each per turn, pushed as fast as the queue takes them
  // (yielding to the event loop between turns so the queue's timer runs, as it would between hops).
  const total = Number(args.results);
  const nSessions = Number(args.sessions);
  const ids = Array.from({ length: nSessions }, (_, i) => `bench-${i}`);
  for (const id of ids) queue.pushSession({ id, owner: 'bench', startedAtMs: Date.now(), endedAtMs: null, endReason: null, client: 'bench', transport: 'none', models: [], windowMs: 3000, hopMs: 500 });
  const rows = ids.map((id) => Array.from({ length: Math.ceil(total / nSessions) }, (_, h) => toRow(result(id, h))));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let pushed = 0;
  for (let h = 0; pushed < total; h++) {
    for (let s = 0; s < nSessions && pushed < total; s++, pushed++) queue.pushResult(rows[s][h]);
    // Keep the queue under its bound: this measures what the store sustains, not what the queue drops.
    while (queue.depth > cfg.maxQueueRows / 2) await new Promise((r) => setTimeout(r, 1));
    if (h % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  await queue.flush();
  while (queue.depth > 0) await new Promise((r) => setTimeout(r, 5));
  const writeS = (performance.now() - t0) / 1000;
  const writeCpu = process.cpuUsage(cpu0);
  const writeCpuS = (writeCpu.user + writeCpu.system) / 1e6;
  const writeHist = await metrics.writeMs.get();
  const dropped = (await metrics.rowsDropped.get()).values.reduce((a, v) => a + v.value, 0);
  const batches = writeHist.values.find((v) => v.metricName === 'emostream_storage_write_ms_count')?.value ?? 0;
  const writeMsSum = writeHist.values.find((v) => v.metricName === 'emostream_storage_write_ms_sum')?.value ?? 0;

  // 2. The 1-hour session: 7,200 results, read back as GET /v1/sessions/:id/timeline does.
  const hourId = 'one-hour';
  const hour = Array.from({ length: 7200 }, (_, h) => result(hourId, h));
  await store.writeBatch({ sessions: [{ id: hourId, owner: 'bench', startedAtMs: Date.now(), endedAtMs: null, endReason: null, client: null, transport: null, models: [], windowMs: 3000, hopMs: 500 }], results: hour.map(toRow), alerts: [], ends: [] });
  // Each turn reads the page as the API does now (timelinePage: the body built by SQLite, one buffer across the worker
  // boundary) and as it did before (the rows across the boundary, the body built on the event loop and encoded), in
  // alternating order, so both see the same machine.
  // The timeline route itself (access check, session lookup, page), as the transports call it; they then write its bytes.
  const config = loadConfig({ env: {} });
  const routes = new RouteTable(config.http.bodyLimitBytes);
  registerHistoryRoutes(routes, new History(store, queue), cfg.maxPageResults, new ServerAuth(config.server, pino({ level: 'silent' })));
  const reads = { page: { wall: [] as number[], cpu: [] as number[] }, rows: { wall: [] as number[], cpu: [] as number[] } };
  const readers = {
    page: async () => {
      const res = await routes.dispatch({ method: 'GET', path: `/v1/sessions/${hourId}/timeline`, query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) });
      if (res.status !== 200 || !(res.body instanceof Uint8Array)) throw new Error(`timeline route answered ${res.status}`);
      return res.body;
    },
    rows: async () => Buffer.from(timelineJson(hourId, await store.timeline({ sessionId: hourId, limit: cfg.maxPageResults }), null)),
  };
  let bytes = 0;
  for (let i = 0; i < Number(args.reads); i++) {
    for (const which of (i % 2 ? ['rows', 'page'] : ['page', 'rows']) as (keyof typeof readers)[]) {
      const r0 = performance.now();
      // CPU time of the same read (both threads): what it costs without the other processes of a shared machine.
      const c0 = process.cpuUsage();
      const body = await readers[which]();
      const c1 = process.cpuUsage(c0);
      reads[which].wall.push(performance.now() - r0);
      reads[which].cpu.push((c1.user + c1.system) / 1000);
      bytes = body.length;
    }
  }
  const page = await store.timelinePage({ sessionId: hourId, limit: cfg.maxPageResults });
  if (page.results !== 7200) throw new Error(`read ${page.results} results, expected 7200`);
  const check = (JSON.parse(Buffer.from((await store.timelinePage({ sessionId: hourId, limit: 10 })).json).toString()) as { results: EmotionResult[] }).results;
  if (JSON.stringify(check) !== JSON.stringify(hour.slice(0, 10))) throw new Error('timeline differs from what was written');
  await queue.close(1000);
  await store.close();
  // Closing checkpoints the WAL into the file.
  const fileBytes = statSync(join(dir, 'history.sqlite')).size;
  for (const r of Object.values(reads)) { r.wall.sort((a, b) => a - b); r.cpu.sort((a, b) => a - b); }
  const readMs = reads.page.wall;
  const readCpuMs = reads.page.cpu;

  let commit = 'unknown';
  try { commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { /* not a checkout */ }
  const round = (x: number, d = 2) => Number(x.toFixed(d));
  const report = {
    bench: 'storage-sqlite',
    writes: {
      results: total, sessions: nSessions, seconds: round(writeS, 3), resultsPerSecond: Math.round(total / writeS), targetResultsPerSecond: 10_000,
      cpuSeconds: round(writeCpuS, 3), resultsPerCpuSecond: Math.round(total / writeCpuS),
      batches, meanBatchWriteMs: batches ? round(writeMsSum / batches, 3) : null, batchRows: cfg.batchRows, rowsDropped: dropped,
      bytesPerResultOnDisk: round(fileBytes / (total + 7200), 1),
    },
    timelineOneHour: {
      results: 7200, reads: readMs.length, p50Ms: round(percentile(readMs, 50)!), p95Ms: round(percentile(readMs, 95)!), maxMs: round(Math.max(...readMs)),
      cpuP50Ms: round(percentile(readCpuMs, 50)!), cpuP95Ms: round(percentile(readCpuMs, 95)!),
      targetMs: 50, jsonBytes: bytes, what: 'GET /v1/sessions/:id/timeline through the route table (auth none, session lookup, store.timelinePage through the worker thread): the bytes the transport writes',
      rowsPath: {
        p50Ms: round(percentile(reads.rows.wall, 50)!), p95Ms: round(percentile(reads.rows.wall, 95)!), cpuP50Ms: round(percentile(reads.rows.cpu, 50)!),
        what: 'the read before (same run, alternating): store.timeline rows through the worker thread, timelineJson, UTF-8 encoding',
      },
    },
    sqlite: { journal: 'WAL', synchronous: 'NORMAL', busyTimeoutMs: cfg.busyTimeoutMs, pageBytes: SQLITE_PAGE_BYTES },
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGb: Number((totalmem() / 2 ** 30).toFixed(1)),
      platform: `${platform()} ${release()} ${arch()}`, node: process.version, loadavgAtEnd: loadavg().map((x) => round(x)),
    },
    commit, date: new Date().toISOString(),
  };
  mkdirSync(join(args.out!, '..'), { recursive: true });
  writeFileSync(args.out!, JSON.stringify(report, null, 2) + '\n');
  console.log(`SQLite: ${report.writes.resultsPerSecond} results/s sustained (${report.writes.resultsPerCpuSecond} per CPU-second; ${total} results, ${nSessions} sessions, ${batches} batches of <= ${cfg.batchRows}, ${dropped} dropped); ` +
    `1-hour timeline (7,200 results) p50 ${report.timelineOneHour.p50Ms} ms, p95 ${report.timelineOneHour.p95Ms} ms ` +
    `(CPU p50 ${report.timelineOneHour.cpuP50Ms} ms; the rows path p50 ${report.timelineOneHour.rowsPath.p50Ms} ms), load average ${report.machine.loadavgAtEnd[0]} on ${report.machine.cpus} CPUs -> ${args.out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
