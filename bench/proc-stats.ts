import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100;

/** CPU seconds (user + system, all threads) and RSS of a Linux process, from /proc. Null where /proc is absent. */
export function sampleProc(pid: number): { cpuS: number; rssMb: number; hwmMb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(/\d+/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '0')?.[0] ?? 0);
    return { cpuS, rssMb: kb('VmRSS:') / 1024, hwmMb: kb('VmHWM:') / 1024 };
  } catch {
    return null;
  }
}

/** Parses Prometheus histogram buckets `name_bucket{le="x",label="v"} n` into per-label cumulative counts. */
export function parseHistogram(text: string, name: string, label: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = labels[label] ?? '';
    (out[key] ??= {})[labels.le] = Number(m[2]);
  }
  return out;
}

/** Cumulative bucket counts (after - before) -> counts per bucket range, e.g. {"1": 10, "2": 3, "4": 0, ...}. */
export function bucketDelta(after: Record<string, number>, before: Record<string, number> = {}): Record<string, number> {
  const les = Object.keys(after).sort((a, b) => (a === '+Inf' ? 1 : b === '+Inf' ? -1 : Number(a) - Number(b)));
  const out: Record<string, number> = {};
  let prev = 0;
  for (const le of les) {
    const cum = after[le] - (before[le] ?? 0);
    out[le === '+Inf' ? 'more' : `<=${le}`] = cum - prev;
    prev = cum;
  }
  return out;
}

/** Sum of a counter (all label sets) in Prometheus text. */
export function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * CPU seconds per thread of a Linux process (/proc/PID/task/TID/stat). The main thread is the one whose tid equals
 * the pid: it runs the event loop (transport, per-session streaming, batching), so its share tells whether the
 * event loop or the model workers bound a run. Null where /proc is absent.
 */
export function sampleThreads(pid: number): Map<number, number> | null {
  try {
    const out = new Map<number, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
      } catch {
        // thread exited between readdir and read
      }
    }
    return out;
  } catch {
    return null;
  }
}

/** Percent of one core each thread used between two samples: the main thread, and the busiest other thread. */
export function threadCpuPercent(pid: number, before: Map<number, number>, after: Map<number, number>, wallS: number): { main: number; busiestOther: number } {
  const delta = (tid: number) => (after.get(tid) ?? 0) - (before.get(tid) ?? 0);
  let busiest = 0;
  for (const tid of after.keys()) if (tid !== pid) busiest = Math.max(busiest, delta(tid));
  const pct = (s: number) => Number(((s / wallS) * 100).toFixed(1));
  return { main: pct(delta(pid)), busiestOther: pct(busiest) };
}

/** A process and all its descendants (pids), from the parent links in /proc/PID/stat. Empty where /proc is absent. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  for (const p of entries) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(p));
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds and memory of every process in a tree, with its command line's first words. */
export function sampleTree(rootPid: number): Map<number, { cpuS: number; rssMb: number; hwmMb: number; cmd: string }> {
  const out = new Map<number, { cpuS: number; rssMb: number; hwmMb: number; cmd: string }>();
  for (const pid of processTree(rootPid)) {
    const s = sampleProc(pid);
    if (!s) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 4).join(' ').slice(0, 120);
    } catch {
      // gone
    }
    out.set(pid, { ...s, cmd });
  }
  return out;
}
