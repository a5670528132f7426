/**
 * History storage bench (SQLite, the default store, on its worker thread as in the server): sustained writes through
 * the real write queue (the path every result takes), and reading back the timeline of a 1-hour session (7,200 results at the 500 ms hop) as the timeline
 * API does (query, rebuild each result, JSON). Writes JSON with the machine's details.
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
import { EMOTIONS } from '../src/protocol/labels.js';
import type { EmotionResult } from '../src/protocol/v1/messages.js';
import { timelineJson, toRow } from '../src/storage/compact.js';
import { createStorageMetrics } from '../src/storage/metrics.js';
import { SqliteThreadStore } from '../src/storage/sqlite-thread.js';
import { WriteQueue } from '../src/storage/write-queue.js';
import { loadConfig } from '../src/server/config.js';

const { values: args } = parseArgs({
  options: {
    results: { type: 'string', default: '200000' },
    sessions: { type: 'string', default: '128' },
    reads: { type: 'string', default: '30' },
    out: { type: 'string', default: join('bench', 'results', 'storage-sqlite.json') },
  },
});

/** A result like the server's for speech + AU face + fusion (posteriors vary so rows are not all alike). */
function result(sessionId: string, hop: number): EmotionResult {
  const probs = (seed: number) => {
    const raw = EMOTIONS.map((_, k) => 1 + Math.sin(seed * 12.9898 + k * 78.233) * 0.9);
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / sum);
  };
  const fused = probs(hop);
  const endUs = 3_000_000 + hop * 500_000;
  return {
    type: 'emotion', sessionId, hop, windowStartUs: endUs - 3_000_000, windowEndUs: endUs, lastFramePtsUs: endUs - 20_000, final: false,
    speech: { probs: probs(hop + 0.5) }, face: { probs: probs(hop + 0.25), frames: 90 }, faces: null, expression: null, aus: null,
    fused: { probs: fused, label: EMOTIONS[fused.indexOf(Math.max(...fused))], head: 'logreg:speech+face' },
    smoothed: { probs: fused, label: EMOTIONS[fused.indexOf(Math.max(...fused))] },
    latency: { queueMs: 0.41, speechMs: 6.2, faceMs: 0.9, fuseMs: 0.05, totalMs: 7.6 }, droppedWindows: 0,
  };
}

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
  const readMs: number[] = [];
  // CPU time of the same reads (both threads): what they cost without the other processes of a shared machine.
  const readCpuMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < Number(args.reads); i++) {
    const r0 = performance.now();
    const c0 = process.cpuUsage();
    const back = await store.timeline({ sessionId: hourId, limit: cfg.maxPageResults });
    const body = timelineJson(hourId, back, null);
    const c1 = process.cpuUsage(c0);
    readMs.push(performance.now() - r0);
    readCpuMs.push((c1.user + c1.system) / 1000);
    bytes = body.length;
    if (back.length !== 7200) throw new Error(`read ${back.length} results, expected 7200`);
  }
  const check = (JSON.parse(timelineJson(hourId, await store.timeline({ sessionId: hourId, limit: 10 }), null)) as { results: EmotionResult[] }).results;
  if (JSON.stringify(check) !== JSON.stringify(hour.slice(0, 10))) throw new Error('timeline differs from what was written');
  await queue.close(1000);
  await store.close();
  // Closing checkpoints the WAL into the file.
  const fileBytes = statSync(join(dir, 'history.sqlite')).size;
  readMs.sort((a, b) => a - b);
  readCpuMs.sort((a, b) => a - b);

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
      targetMs: 50, jsonBytes: bytes, what: 'SELECT of the page + the JSON body the timeline API sends (timelineJson)',
    },
    sqlite: { journal: 'WAL', synchronous: 'NORMAL', busyTimeoutMs: cfg.busyTimeoutMs },
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
    `(CPU p50 ${report.timelineOneHour.cpuP50Ms} ms), load average ${report.machine.loadavgAtEnd[0]} on ${report.machine.cpus} CPUs -> ${args.out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
