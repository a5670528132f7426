/**
 * Scale-out cost, side by side: one node against K nodes sharing a redis-server behind HAProxy (bench/run.ts
 * --nodes), at the same session count, runs alternated so a drifting machine hits both alike. Writes one JSON (and
 * prints a table) with each run and the medians: CPU per session of the single node, of the nodes plus redis (what
 * the issue's 10 % target is about), and of everything including the balancer; latency and delivery beside them.
 *
 *   npm run bench:scale -- --sessions 128 --seconds 20 --warmup-s 2 --repeats 3 [--b "--nodes 2"] [--tag scale-out-128s]
 *
 * --a / --b are the two modes' extra bench/run.ts flags (default: "" = one node, and "--nodes 2").
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '128' },
    seconds: { type: 'string', default: '20' },
    'warmup-s': { type: 'string', default: '2' },
    repeats: { type: 'string', default: '3' },
    a: { type: 'string', default: '' },
    b: { type: 'string', default: '--nodes 2' },
    /** Passed to both modes, e.g. "--feature-workers 1". */
    extra: { type: 'string', default: '' },
    /** Largest extra cost per session of mode b over mode a, in percent (the target: 10). */
    'target-percent': { type: 'string', default: '10' },
    tag: { type: 'string' },
    /** Marks the JSON as a smoke run (tiny sizes on a busy machine: proves the mode works, measures nothing). */
    smoke: { type: 'boolean', default: false },
  },
});

interface RunReport {
  latencyMs: { p50: number | null; p95: number | null };
  droppedWindows: number; resultsPerSecond: number; expectedResultsPerSecond: number; errors: number; cpuPercent: number | null;
  clusterCpuPercent?: number; withBalancerCpuPercent?: number; redis?: { cpuPercent: number } | null; balancer?: { cpuPercent: number } | null;
  perNode?: { nodeId: string; cpuPercent: number; peakRssMb: number }[]; topology?: Record<string, unknown>;
  machine: Record<string, unknown>; commit: string;
}

const sessions = Number(values.sessions);
const repeats = Number(values.repeats);
const target = Number(values['target-percent']);
const tag = values.tag ?? `scale-out-${sessions}s${values.smoke ? '-smoke' : ''}`;
const dir = join('bench', 'results', tag);
mkdirSync(dir, { recursive: true });
const words = (s: string) => s.split(' ').filter(Boolean);
const modes = [{ name: 'a', flags: words(values.a!) }, { name: 'b', flags: words(values.b!) }];

function runOnce(mode: { name: string; flags: string[] }, repeat: number) {
  const file = join(dir, `${mode.name}-r${repeat}.json`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--sessions', String(sessions), '--seconds', values.seconds!,
    '--warmup-s', values['warmup-s']!, ...words(values.extra!), ...mode.flags, ...(values.smoke ? ['--smoke'] : []), '--out', file], { stdio: 'inherit' });
  if (res.status !== 0) return { mode: mode.name, repeat, file, error: `bench/run.ts exited ${res.status ?? res.signal}` };
  const r = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
  const server = r.cpuPercent ?? NaN;
  return {
    mode: mode.name, repeat, file,
    topology: r.topology ?? { nodes: 1 },
    serverCpuPercent: server,
    // Without --nodes there is no redis and no balancer: the node is the whole cost.
    clusterCpuPercent: r.clusterCpuPercent ?? server,
    withBalancerCpuPercent: r.withBalancerCpuPercent ?? server,
    redisCpuPercent: r.redis?.cpuPercent ?? null,
    balancerCpuPercent: r.balancer?.cpuPercent ?? null,
    perNode: r.perNode?.map((n) => ({ nodeId: n.nodeId, cpuPercent: n.cpuPercent, peakRssMb: n.peakRssMb })) ?? null,
    p50Ms: r.latencyMs.p50, p95Ms: r.latencyMs.p95, dropped: r.droppedWindows, errors: r.errors,
    allResults: r.resultsPerSecond >= 0.98 * r.expectedResultsPerSecond,
    machine: r.machine, commit: r.commit,
  };
}

type Row = ReturnType<typeof runOnce>;
const rows: Row[] = [];
for (let k = 1; k <= repeats; k++) {
  // a, b, then b, a: neither mode always goes first.
  for (const m of k % 2 ? modes : [...modes].reverse()) {
    console.log(`[scale-compare] mode ${m.name} (${m.flags.join(' ') || 'one node'}), run ${k} of ${repeats}`);
    rows.push(runOnce(m, k));
  }
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ok = (r: Row): r is Extract<Row, { serverCpuPercent: number }> => !('error' in r);
const summary = (name: string) => {
  const rs = rows.filter((r) => r.mode === name).filter(ok);
  const m = (get: (r: (typeof rs)[number]) => number | null) => median(rs.map((r) => get(r) ?? NaN));
  const per = (x: number | null) => (x === null ? null : Number((x / sessions).toFixed(3)));
  return {
    runs: rs.length,
    cpuPercentPerSession: { server: per(m((r) => r.serverCpuPercent)), cluster: per(m((r) => r.clusterCpuPercent)), withBalancer: per(m((r) => r.withBalancerCpuPercent)) },
    medianP95Ms: m((r) => r.p95Ms),
    allRealTime: rs.every((r) => r.dropped === 0 && r.allResults && r.errors === 0),
  };
};
const a = summary('a');
const b = summary('b');
const extra = (x: number | null, y: number | null) => (x && y !== null ? Number((((y - x) / x) * 100).toFixed(1)) : null);
const extraCluster = extra(a.cpuPercentPerSession.cluster, b.cpuPercentPerSession.cluster);
const report = {
  kind: values.smoke ? 'SMOKE RUN: tiny sizes on a busy shared machine; proves the mode runs, not a measurement' : 'measurement',
  sessions, seconds: Number(values.seconds), warmupS: Number(values['warmup-s']), repeats, extraFlags: values.extra,
  modes: { a: values.a || '(one node)', b: values.b },
  a, b,
  extraCostPerSessionPercent: {
    // b's nodes + redis against a's node(s) + redis: the target.
    cluster: extraCluster,
    server: extra(a.cpuPercentPerSession.server, b.cpuPercentPerSession.server),
    withBalancer: extra(a.cpuPercentPerSession.withBalancer, b.cpuPercentPerSession.withBalancer),
  },
  target: `b's CPU per session (nodes + redis) within ${target} % of a's`,
  targetMet: extraCluster === null ? null : extraCluster <= target,
  runs: rows,
  machine: rows.find(ok)?.machine ?? null, commit: rows.find(ok)?.commit ?? null, date: new Date().toISOString(),
};
const out = join('bench', 'results', `${tag}.json`);
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
const f = (x: number | null | undefined) => (x === null || x === undefined ? '-' : String(x));
console.log([
  `| mode | flags | run | server CPU % | redis % | haproxy % | e2e p95 ms | dropped |`,
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => (ok(r)
    ? `| ${r.mode} | ${r.mode === 'a' ? report.modes.a : report.modes.b} | ${r.repeat} | ${r.serverCpuPercent} | ${f(r.redisCpuPercent)} | ${f(r.balancerCpuPercent)} | ${f(r.p95Ms)} | ${r.dropped} |`
    : `| ${r.mode} | | ${r.repeat} | ${r.error} | | | | |`)),
  '',
  `CPU per session (% of a core, medians): a ${f(a.cpuPercentPerSession.cluster)}, b ${f(b.cpuPercentPerSession.cluster)} with redis, ${f(b.cpuPercentPerSession.withBalancer)} with the balancer too;` +
  ` b costs ${f(extraCluster)} % more (target <= ${target} %: ${report.targetMet === null ? 'unknown' : report.targetMet ? 'met' : 'NOT met'})${values.smoke ? ' [smoke run]' : ''} -> ${out}`,
].join('\n'));
