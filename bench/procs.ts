/**
 * Child processes a benchmark starts (servers, redis-server, haproxy) and how they are stopped: each child leads its
 * own process group, so stopping it also stops whatever it forked (a server's worker processes), and one registry
 * stops every group still alive when the bench finishes, fails, or is interrupted (Ctrl-C, SIGTERM, SIGHUP). Only a
 * SIGKILL of the bench itself can leave a child behind; nothing can catch that.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface Managed {
  name: string;
  child: ChildProcess;
  /** Process-group id (= the child's pid: it was spawned detached, as a group leader). */
  pgid: number;
  /** stdout + stderr, last 200 chunks, for error messages. */
  log: string[];
}

const live = new Set<Managed>();
let handlersInstalled = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The non-zombie processes of a process group, from /proc (Linux). Falls back to kill(-pgid, 0) elsewhere. */
export function groupMembers(pgid: number): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const out: number[] = [];
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] state, [1] ppid, [2] pgrp
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(p));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // already gone
  }
}

/** Spawns `cmd` as the leader of a new process group and registers it for cleanup. */
export function spawnManaged(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Managed {
  installCleanupHandlers();
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const m: Managed = { name, child, pgid: child.pid, log: [] };
  const keep = (d: Buffer) => { m.log.push(d.toString()); if (m.log.length > 200) m.log.shift(); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // spawn errors (ENOENT) arrive as an event; keep them in the log instead of crashing the bench.
  child.on('error', (err) => m.log.push(`spawn error: ${err.message}`));
  live.add(m);
  return m;
}

/**
 * SIGTERM to the whole group, then SIGKILL to what is left after `graceMs`. Resolves once no process of the group is
 * alive. A server drains on SIGTERM, so `graceMs` must exceed its drain timeout for a clean stop.
 */
export async function stopManaged(m: Managed, graceMs = 5000): Promise<void> {
  signalGroup(m.pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupMembers(m.pgid).length > 0 && Date.now() < deadline) await sleep(50);
  if (groupMembers(m.pgid).length > 0) {
    signalGroup(m.pgid, 'SIGKILL');
    for (let i = 0; i < 100 && groupMembers(m.pgid).length > 0; i++) await sleep(50);
  }
  live.delete(m);
}

/** Stops every registered group, the most recently started first (the balancer before its backends). */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...live].reverse().map((m) => stopManaged(m, graceMs)));
}

/** Groups still registered (for tests). */
export function liveCount(): number {
  return live.size;
}

function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort, synchronous: whatever is still registered when the process exits gets SIGKILL.
  process.on('exit', () => { for (const m of live) signalGroup(m.pgid, 'SIGKILL'); });
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping ${live.size} child process group(s)`);
      const hardStop = setTimeout(() => process.exit(code), 8000);
      hardStop.unref();
      void stopAll(3000).finally(() => process.exit(code));
    });
  };
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  onSignal('SIGHUP', 129);
}

export { freePort } from '../src/lib/free-port.js';

/**
 * Polls `ready` every `everyMs` until it returns true; throws if `m` exits first, `fatal` finds a reason to give up
 * (e.g. a line in its log), or `timeoutMs` passes, with the tail of its log in the message.
 */
export async function waitReady(m: Managed, what: string, ready: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 100,
  fatal: () => string | null = () => null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (m.child.exitCode !== null || m.child.signalCode !== null) {
      throw new Error(`${m.name} exited (${m.child.exitCode ?? m.child.signalCode}) before ${what}: ${m.log.join('').slice(-2000)}`);
    }
    if (m.log.some((l) => l.startsWith('spawn error'))) throw new Error(`${m.name}: ${m.log.join('').slice(-500)}`);
    const reason = fatal();
    if (reason) throw new Error(`${m.name}: ${reason} before ${what}: ${m.log.join('').slice(-2000)}`);
    try {
      if (await ready()) return;
    } catch {
      // not yet
    }
    await sleep(everyMs);
  }
  throw new Error(`${m.name}: no ${what} within ${timeoutMs / 1000} s: ${m.log.join('').slice(-2000)}`);
}
