/**
 * The closing-note tables: runs bench/run.ts for each session count and transport, one after another (each run
 * starts and stops its own server), and writes a markdown table plus one JSON per run.
 *
 *   npm run bench:table -- [--sessions 1,8,32,64,128] [--transports uws,ws] [--seconds 30] [--batching on] [--provider cpu]
 *                          [--feature-workers N] [--stop-after-fail] [--quiet-flag FILE] [--out bench/results/table.md]
 *
 * Capacity sweeps: `--stop-after-fail` stops raising the session count for a transport after the first run that is
 * not real-time (p95 > 100 ms or any dropped window); `--quiet-flag` waits before each run while FILE exists (another
 * job has announced heavy CPU use) so no run is taken on a busy machine. The table ends with the largest session
 * count that met the target.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,8,32,64,128' },
    transports: { type: 'string', default: 'uws,ws' },
    seconds: { type: 'string', default: '30' },
    batching: { type: 'string', default: 'on' },
    provider: { type: 'string', default: 'cpu' },
    'feature-workers': { type: 'string' },
    'stop-after-fail': { type: 'boolean', default: false },
    'quiet-flag': { type: 'string' },
    'p95-limit-ms': { type: 'string', default: '100' },
    out: { type: 'string', default: 'bench/results/table.md' },
  },
});

interface Report {
  sessions: number; transport: string; batching: string; latencyMs: { p50: number; p95: number; p99: number };
  serverMs: { p95: number }; resultsPerSecond: number; expectedResultsPerSecond: number; droppedWindows: number;
  cpuPercent: number; peakRssMb: number; loadGeneratorCpuPercent: number; models: { name: string; available: boolean }[];
  batchSizeHistogram: Record<string, Record<string, number>>; machine: { cpus: number; cpuModel: string };
  serverThreadCpuPercent?: { main: number; busiestOther: number } | null; featureWorkers?: number; commit: string;
}

const p95Limit = Number(values['p95-limit-ms']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rows: string[] = [];
const best: Record<string, number | null> = {};
let machine = '';
let modelsLine = '';
let commit = '';
let featureWorkers: number | undefined;
for (const transport of values.transports!.split(',')) {
  best[transport] = null;
  for (const n of values.sessions!.split(',').map(Number)) {
    const flag = values['quiet-flag'];
    if (flag && existsSync(flag)) {
      console.log(`waiting: ${flag} exists (machine busy)`);
      while (existsSync(flag)) await sleep(5000);
    }
    const out = join('bench', 'results', `server-${transport}-${n}s-${values.batching === 'on' ? 'batch' : 'nobatch'}-${values.provider}.json`);
    const extra = values['feature-workers'] !== undefined ? ['--feature-workers', values['feature-workers']] : [];
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--sessions', String(n), '--seconds', values.seconds!, '--transport', transport,
      '--batching', values.batching!, '--provider', values.provider!, ...extra, '--out', out], { stdio: 'inherit' });
    if (res.status !== 0) {
      rows.push(`| ${n} | ${transport} | failed (exit ${res.status}) | | | | | | | | |`);
      if (values['stop-after-fail']) break;
      continue;
    }
    const r = JSON.parse(readFileSync(out, 'utf8')) as Report;
    machine = `${r.machine.cpus} x ${r.machine.cpuModel}`;
    modelsLine = r.models.map((m) => `${m.name}${m.available ? '' : ' (unavailable)'}`).join(', ');
    commit = r.commit;
    featureWorkers = r.featureWorkers;
    const maxBatch = Math.max(...Object.values(r.batchSizeHistogram).flatMap((h) => Object.entries(h).filter(([, c]) => c > 0).map(([k]) => Number(k.replace('<=', '')) || 0)));
    const realTime = r.latencyMs.p95 <= p95Limit && r.droppedWindows === 0 && r.resultsPerSecond >= 0.98 * r.expectedResultsPerSecond;
    const main = r.serverThreadCpuPercent ? r.serverThreadCpuPercent.main : '-';
    rows.push(`| ${n} | ${transport} | ${r.latencyMs.p50} / ${r.latencyMs.p95} / ${r.latencyMs.p99} | ${r.serverMs.p95} | ${r.resultsPerSecond} (${r.expectedResultsPerSecond}) | ${r.droppedWindows} | ${r.cpuPercent} | ${main} | ${r.peakRssMb} | ${r.loadGeneratorCpuPercent} | ${Number.isFinite(maxBatch) ? maxBatch : '-'} |`);
    if (realTime) best[transport] = Math.max(best[transport] ?? 0, n);
    else if (values['stop-after-fail']) break;
  }
}
const md = [
  `Server load, ${values.seconds} s of real RAVDESS audio + clip-mean AUs at 30 fps per session, real-time pace; batching ${values.batching}, provider ${values.provider}` +
    `${featureWorkers !== undefined ? `, ${featureWorkers} feature worker(s)` : ''}${commit ? `, commit ${commit}` : ''}.`,
  `Machine: ${machine}. Models: ${modelsLine}.`,
  '',
  '| sessions | transport | e2e latency p50 / p95 / p99 (ms) | server p95 (ms) | results/s (expected) | dropped windows | server CPU % | server main thread CPU % | server peak RSS (MB) | load generator CPU % | largest batch (bucket) |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  ...Object.entries(best).map(([t, n]) => `Largest session count with p95 <= ${p95Limit} ms, no dropped window and every result delivered (${t}): ${n ?? 'none of those run'}.`),
  '',
].join('\n');
mkdirSync(join(values.out!, '..'), { recursive: true });
writeFileSync(values.out!, md);
console.log(md);
