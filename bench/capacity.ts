/**
 * Real-time capacity of batching on vs off, robust to run-to-run noise: for each mode, session counts are tried from
 * low to high; every count is run up to `--repeats` times (stopping once a majority has passed or failed), and a
 * count is real-time when the majority of its runs are (p95 <= limit, no dropped window, every result delivered).
 * A mode stops at its first count that is not. Runs of the two modes alternate, so slow drifts of the machine hit
 * both alike. Writes one JSON per run, and a JSON + markdown summary with the ratio of the two capacities.
 *
 *   npm run bench:capacity -- --on 320,352,384,416,448 --off 224,256,288,320 [--repeats 3] [--seconds 20]
 *                              [--warmup-s 0] [--feature-workers 1] [--quiet-flag FILE] [--tag NAME] [--extra="--max-delay-ms 10"]
 *
 * With --warmup-s, the p95 that decides is over the results after the warm-up (bench/run.ts); the whole-run p95 is
 * kept in every row beside it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    on: { type: 'string', default: '320,352,384,416,448' },
    off: { type: 'string', default: '224,256,288,320' },
    repeats: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
    'warmup-s': { type: 'string', default: '0' },
    'feature-workers': { type: 'string' },
    'quiet-flag': { type: 'string' },
    'p95-limit-ms': { type: 'string', default: '100' },
    tag: { type: 'string', default: 'capacity' },
    /** Passed to every bench/run.ts call, e.g. "--max-delay-ms 10". */
    extra: { type: 'string', default: '' },
  },
});

interface RunReport {
  latencyMs: { p50: number; p95: number; p99: number };
  latencyWholeRunMs?: { p95: number };
  droppedWindows: number; resultsPerSecond: number; expectedResultsPerSecond: number; cpuPercent: number;
  serverThreadCpuPercent?: { main: number; busiestOther: number } | null; loadGeneratorCpuPercent: number;
  machine: Record<string, unknown>; commit: string;
}
interface RunRow { sessions: number; repeat: number; p95Ms: number | null; p95WholeRunMs?: number | null; dropped: number | null; realTime: boolean; file: string; error?: string }
type Mode = 'on' | 'off';

const repeats = Number(values.repeats);
const p95Limit = Number(values['p95-limit-ms']);
const majority = Math.floor(repeats / 2) + 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const extra = values.extra!.split(' ').filter(Boolean);
let machine: Record<string, unknown> = {};
let commit = '';

async function runOnce(mode: Mode, sessions: number, repeat: number): Promise<RunRow> {
  const flag = values['quiet-flag'];
  if (flag && existsSync(flag)) {
    console.log(`waiting: ${flag} exists (machine busy)`);
    while (existsSync(flag)) await sleep(5000);
  }
  const file = join('bench', 'results', values.tag!, `${sessions}s-${mode === 'on' ? 'batch' : 'nobatch'}-r${repeat}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  const fw = values['feature-workers'] !== undefined ? ['--feature-workers', values['feature-workers']] : [];
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--sessions', String(sessions), '--seconds', values.seconds!,
    '--warmup-s', values['warmup-s']!, '--batching', mode, ...fw, ...extra, '--out', file], { stdio: 'inherit' });
  if (res.status !== 0) return { sessions, repeat, p95Ms: null, dropped: null, realTime: false, file, error: `exit ${res.status}` };
  const r = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
  machine = r.machine;
  commit = r.commit;
  const realTime = r.latencyMs.p95 <= p95Limit && r.droppedWindows === 0 && r.resultsPerSecond >= 0.98 * r.expectedResultsPerSecond;
  return { sessions, repeat, p95Ms: r.latencyMs.p95, p95WholeRunMs: r.latencyWholeRunMs?.p95 ?? null, dropped: r.droppedWindows, realTime, file };
}

/** One mode's search state: the count being tried, its runs so far, and the best count that passed. */
class Search {
  private index = 0;
  private runs: RunRow[] = [];
  readonly rows: RunRow[] = [];
  best: number | null = null;
  done = false;
  constructor(readonly mode: Mode, readonly counts: number[]) {
    if (counts.length === 0) this.done = true;
  }
  get next(): { sessions: number; repeat: number } {
    return { sessions: this.counts[this.index], repeat: this.runs.length + 1 };
  }
  record(row: RunRow): void {
    this.runs.push(row);
    this.rows.push(row);
    const passed = this.runs.filter((r) => r.realTime).length;
    const failed = this.runs.length - passed;
    if (passed >= majority) {
      this.best = this.counts[this.index];
      this.runs = [];
      this.index++;
      if (this.index >= this.counts.length) this.done = true;
    } else if (failed >= majority) {
      this.done = true;
    }
  }
}

const parseCounts = (s: string) => s.split(',').filter(Boolean).map(Number);
const searches = [new Search('on', parseCounts(values.on!)), new Search('off', parseCounts(values.off!))];
const started = Date.now();
while (searches.some((s) => !s.done)) {
  for (const s of searches) {
    if (s.done) continue;
    const { sessions, repeat } = s.next;
    console.log(`[${((Date.now() - started) / 60000).toFixed(1)} min] batching ${s.mode}, ${sessions} sessions, run ${repeat}`);
    s.record(await runOnce(s.mode, sessions, repeat));
  }
}

const [on, off] = searches;
const ratio = on.best !== null && off.best ? Number((on.best / off.best).toFixed(2)) : null;
const summary = {
  tag: values.tag, rule: `a count is real-time when a majority of up to ${repeats} runs has p95 <= ${p95Limit} ms, no dropped window and every result`,
  seconds: Number(values.seconds), warmupS: Number(values['warmup-s']), featureWorkers: values['feature-workers'] ?? null, extra: values.extra,
  capacity: { on: on.best, off: off.best }, ratio, runs: { on: on.rows, off: off.rows },
  minutes: Number(((Date.now() - started) / 60000).toFixed(1)), machine, commit, date: new Date().toISOString(),
};
/** What a search found, saying so when it was not run or when its highest count passed (the limit may lie above). */
function capacityText(s: Search, mode: string): string {
  if (s.counts.length === 0) return `${mode}: not searched`;
  if (s.best === null) return `${mode}: none of ${s.counts.join(', ')} real-time`;
  return `${s.best} sessions ${mode}${s.best === Math.max(...s.counts) ? ' (the highest count tried)' : ''}`;
}
const dir = join('bench', 'results', values.tag!);
writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
const table = (s: Search) => s.rows.map((r) => `| ${s.mode} | ${r.sessions} | ${r.repeat} | ${r.p95Ms ?? r.error} | ${r.p95WholeRunMs ?? '-'} | ${r.dropped ?? '-'} | ${r.realTime ? 'yes' : 'no'} |`);
const md = [
  `Capacity, batching on vs off (${values.seconds} s runs${summary.warmupS ? `, p95 after a ${summary.warmupS} s warm-up` : ''}, ${summary.rule}; commit ${commit}; ${String(machine.cpus)} x ${String(machine.cpuModel)}${values.extra ? `; ${values.extra}` : ''}).`,
  '',
  '| batching | sessions | run | e2e p95 (ms) | whole-run p95 (ms) | dropped | real-time |',
  '|---|---|---|---|---|---|---|',
  ...table(on), ...table(off),
  '',
  `Capacity: **${capacityText(on, 'with batching')}, ${capacityText(off, 'without')}${ratio !== null ? ` (${ratio}x)` : ''}**.`,
  '',
].join('\n');
writeFileSync(join(dir, 'summary.md'), md);
console.log(md);
