/**
 * A fixed session ladder over several server shapes: every (provider, processes) pair is run at each session count,
 * rung by rung (all pairs at the lowest count, then the next), so a run cut short by its deadline still compares every
 * pair at the counts it reached. A pair stops climbing after its first rung that is not real-time (p95 <= limit after
 * the warm-up, no dropped window, every result delivered). Writes each run's JSON and a summary (JSON + markdown).
 *
 *   npm run bench:ladder -- --providers webgpu,cpu --processes 4,8 --sessions 256,512,1024 --seconds 8 --warmup-s 2 \
 *     --load-processes 4 --deadline-s 360 --dir bench/results/gpu-ladder [--extra "--feature-workers 2"]
 *
 * Used by scripts/gpu-check.sh on a lent GPU machine (WebGPU vs the CPU provider of the same host, docs/gpu.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    providers: { type: 'string', default: 'webgpu,cpu' },
    processes: { type: 'string', default: '4,8' },
    sessions: { type: 'string', default: '256,512,1024' },
    seconds: { type: 'string', default: '8' },
    'warmup-s': { type: 'string', default: '2' },
    'load-processes': { type: 'string', default: '4' },
    'p95-limit-ms': { type: 'string', default: '100' },
    /** No new run starts this many seconds after the ladder began (the lent machine's call has a hard limit). */
    'deadline-s': { type: 'string', default: '360' },
    dir: { type: 'string', default: join('bench', 'results', 'ladder') },
    /** Passed to every bench/run.ts call. */
    extra: { type: 'string', default: '' },
    smoke: { type: 'boolean', default: false },
  },
});

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const providers = list(values.providers!);
const processes = list(values.processes!).map(Number);
const ladder = list(values.sessions!).map(Number).sort((a, b) => a - b);
const p95Limit = Number(values['p95-limit-ms']);
const deadlineMs = Number(values['deadline-s']) * 1000;
const dir = values.dir!;
mkdirSync(dir, { recursive: true });
const started = Date.now();

interface RunJson {
  latencyMs: { p50: number | null; p95: number | null }; droppedWindows: number; errors: number; resultsPerSecond: number;
  expectedResultsPerSecond: number; cpuPercent: number | null; topology?: { processesSeen?: number[] };
  models: { name: string; provider: string | null; available: boolean }[]; batchSizeHistogram: Record<string, Record<string, number>>;
  machine: Record<string, unknown>; commit: string;
}

const pairs = providers.flatMap((provider) => processes.map((procs) => ({ provider, procs, stopped: false })));
const rows: Record<string, unknown>[] = [];
let machine: Record<string, unknown> | null = null;
let commit: string | null = null;
let cutShort = false;
for (const sessions of ladder) {
  for (const pair of pairs) {
    if (pair.stopped) continue;
    if (Date.now() - started > deadlineMs) { cutShort = true; break; }
    const file = join(dir, `${pair.provider}-${pair.procs}proc-${sessions}s.json`);
    console.log(`[ladder ${((Date.now() - started) / 1000).toFixed(0)} s] ${pair.provider}, ${pair.procs} processes, ${sessions} sessions`);
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--sessions', String(sessions), '--seconds', values.seconds!,
      '--warmup-s', values['warmup-s']!, '--provider', pair.provider, '--processes', String(pair.procs),
      '--load-processes', String(Math.min(Number(values['load-processes']), sessions)), ...values.extra!.split(' ').filter(Boolean), ...(values.smoke ? ['--smoke'] : []), '--out', file],
      // A run that hangs (a device that stops answering) must not eat the rest of the call: SIGINT lets bench/run.ts
      // stop the servers it started before it exits.
      { stdio: 'inherit', timeout: (Number(values.seconds) + 150) * 1000, killSignal: 'SIGINT' });
    if (res.status !== 0) {
      rows.push({ provider: pair.provider, processes: pair.procs, sessions, error: `bench/run.ts exited ${res.status ?? res.signal}` });
      pair.stopped = true;
      continue;
    }
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunJson;
    machine = r.machine;
    commit = r.commit;
    const realTime = r.latencyMs.p95 !== null && r.latencyMs.p95 <= p95Limit && r.droppedWindows === 0 && r.resultsPerSecond >= 0.98 * r.expectedResultsPerSecond;
    rows.push({
      provider: pair.provider, processes: pair.procs, processesSeen: r.topology?.processesSeen?.[0] ?? null, sessions, realTime,
      p50Ms: r.latencyMs.p50, p95Ms: r.latencyMs.p95, dropped: r.droppedWindows, errors: r.errors,
      serverCpuPercent: r.cpuPercent, cpuPercentPerSession: r.cpuPercent === null ? null : Number((r.cpuPercent / sessions).toFixed(3)),
      modelProviders: Object.fromEntries(r.models.map((m) => [m.name, m.available ? m.provider : 'unavailable'])),
      speechBatchSizes: r.batchSizeHistogram.speech ?? null,
      file,
    });
    if (!realTime) pair.stopped = true;
  }
  if (cutShort) break;
}

const best = Object.fromEntries(pairs.map((p) => {
  const passed = rows.filter((r) => r.provider === p.provider && r.processes === p.procs && r.realTime === true).map((r) => r.sessions as number);
  return [`${p.provider} x ${p.procs} processes`, passed.length ? Math.max(...passed) : null];
}));
const summary = {
  kind: values.smoke ? 'SMOKE RUN: tiny sizes, proves the script runs, not a measurement' : 'measurement',
  rule: `real-time: p95 after a ${values['warmup-s']} s warm-up <= ${p95Limit} ms, no dropped window, every result`,
  ladder, seconds: Number(values.seconds), providers, processes, extra: values.extra,
  highestRealTimeRung: best, cutShortByDeadline: cutShort, minutes: Number(((Date.now() - started) / 60000).toFixed(1)),
  runs: rows, machine, commit, date: new Date().toISOString(),
};
writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
const md = [
  `Session ladder (${values.seconds} s runs, ${summary.rule}; commit ${commit ?? '?'}${values.smoke ? '; SMOKE RUN' : ''}).`, '',
  '| provider | processes | sessions | real-time | e2e p95 (ms) | dropped | server CPU % | CPU % per session |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${String(r.provider)} | ${String(r.processes)} | ${String(r.sessions)} | ${r.error ? String(r.error) : r.realTime ? 'yes' : 'no'} | ${String(r.p95Ms ?? '-')} | ${String(r.dropped ?? '-')} | ${String(r.serverCpuPercent ?? '-')} | ${String(r.cpuPercentPerSession ?? '-')} |`),
  '', `Highest real-time rung: ${Object.entries(best).map(([k, v]) => `${k}: ${v ?? 'none'}`).join('; ')}${cutShort ? ' (cut short by the deadline)' : ''}.`, '',
].join('\n');
writeFileSync(join(dir, 'summary.md'), md);
console.log(md);
