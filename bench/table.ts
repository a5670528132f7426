/**
 * The closing-note table: runs bench/run.ts for each session count and transport, one after another (each run
 * starts and stops its own server), and writes bench/results/table.md plus one JSON per run.
 *
 *   npm run bench:table -- [--sessions 1,8,32,64,128] [--transports uws,ws] [--seconds 30] [--batching on] [--provider cpu]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,8,32,64,128' },
    transports: { type: 'string', default: 'uws,ws' },
    seconds: { type: 'string', default: '30' },
    batching: { type: 'string', default: 'on' },
    provider: { type: 'string', default: 'cpu' },
    out: { type: 'string', default: 'bench/results/table.md' },
  },
});

interface Report {
  sessions: number; transport: string; batching: string; latencyMs: { p50: number; p95: number; p99: number };
  serverMs: { p95: number }; resultsPerSecond: number; expectedResultsPerSecond: number; droppedWindows: number;
  cpuPercent: number; peakRssMb: number; loadGeneratorCpuPercent: number; models: { name: string; available: boolean }[];
  batchSizeHistogram: Record<string, Record<string, number>>; machine: { cpus: number; cpuModel: string };
}

const rows: string[] = [];
let machine = '';
let modelsLine = '';
for (const transport of values.transports!.split(',')) {
  for (const n of values.sessions!.split(',').map(Number)) {
    const out = join('bench', 'results', `server-${transport}-${n}s-${values.batching === 'on' ? 'batch' : 'nobatch'}-${values.provider}.json`);
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--sessions', String(n), '--seconds', values.seconds!, '--transport', transport,
      '--batching', values.batching!, '--provider', values.provider!, '--out', out], { stdio: 'inherit' });
    if (res.status !== 0) {
      rows.push(`| ${n} | ${transport} | failed (exit ${res.status}) | | | | | | |`);
      continue;
    }
    const r = JSON.parse(readFileSync(out, 'utf8')) as Report;
    machine = `${r.machine.cpus} x ${r.machine.cpuModel}`;
    modelsLine = r.models.map((m) => `${m.name}${m.available ? '' : ' (unavailable)'}`).join(', ');
    const maxBatch = Math.max(...Object.values(r.batchSizeHistogram).flatMap((h) => Object.entries(h).filter(([, c]) => c > 0).map(([k]) => Number(k.replace('<=', '')) || 0)));
    rows.push(`| ${n} | ${transport} | ${r.latencyMs.p50} / ${r.latencyMs.p95} / ${r.latencyMs.p99} | ${r.serverMs.p95} | ${r.resultsPerSecond} (${r.expectedResultsPerSecond}) | ${r.droppedWindows} | ${r.cpuPercent} | ${r.peakRssMb} | ${r.loadGeneratorCpuPercent} | ${Number.isFinite(maxBatch) ? maxBatch : '-'} |`);
  }
}
const md = [
  `Server load, ${values.seconds} s of real RAVDESS audio + clip-mean AUs at 30 fps per session, real-time pace; batching ${values.batching}, provider ${values.provider}.`,
  `Machine: ${machine}. Models: ${modelsLine}.`,
  '',
  '| sessions | transport | e2e latency p50 / p95 / p99 (ms) | server p95 (ms) | results/s (expected) | dropped windows | server CPU % | server peak RSS (MB) | load generator CPU % | largest batch (bucket) |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
mkdirSync(join(values.out!, '..'), { recursive: true });
writeFileSync(values.out!, md);
console.log(md);
