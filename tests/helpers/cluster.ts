import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';
import { until } from './until.js';

/** Why the Redis + HAProxy cluster test cannot run here, or false when it can. */
export function clusterSkip(): string | false {
  for (const bin of ['redis-server', 'haproxy']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} not installed (apt-get install redis-server haproxy)`;
  }
  return false;
}

/** A child process whose output is kept (for assertions on log lines and for failure messages). */
export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child, output: () => out, exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A throw-away redis-server on a free loopback port: its own temp dir, no persistence (a restart comes back empty). */
export async function startRedis(port?: number): Promise<Proc & { url: string; port: number; dir: string }> {
  const p = port ?? await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'emo-redis-'));
  const proc = track(spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await until(() => proc.output().includes('Ready to accept connections') || proc.child.exitCode !== null, 'redis-server ready');
  if (proc.child.exitCode !== null) throw new Error(`redis-server failed: ${proc.output()}`);
  return { ...proc, url: `redis://127.0.0.1:${p}`, port: p, dir };
}

/** env for a test node: no video, no history, no feature worker, JSON logs (to find the port and the log lines). */
export function nodeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env, EMOSTREAM_VIDEO: 'false', EMOSTREAM_DATABASE_URL: 'none', EMOSTREAM_FEATURE_WORKERS: '0',
    EMOSTREAM_LOG_FORMAT: 'json', EMOSTREAM_LOG_LEVEL: 'info', EMOSTREAM_WORKERS: '1', ...extra,
  };
}

/** `emostream serve` as its own process on port 0; resolves with the port from its listening line. */
export async function startNode(env: Record<string, string>, args: string[] = []): Promise<Proc & { port: number }> {
  const proc = track(spawn(process.execPath, ['bin/emostream.mjs', 'serve', '--port', '0', '--host', '127.0.0.1', ...args], { env: nodeEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
  let port = 0;
  await until(() => {
    const m = /"port":(\d+),[^\n]*emostream listening/.exec(proc.output());
    if (m) port = Number(m[1]);
    return port > 0 || proc.child.exitCode !== null;
  }, 'emostream node listening', 120_000);
  if (!port) throw new Error(`node failed to start: ${proc.output()}`);
  return { ...proc, port };
}

/** HAProxy running deploy/haproxy.cfg itself on a free loopback port, in front of `nodes` (host:port). */
export async function startHaproxy(nodes: [string, string]): Promise<Proc & { port: number }> {
  const port = await freePort();
  const env = { ...process.env, EMOSTREAM_LB_BIND: `127.0.0.1:${port}`, EMOSTREAM_LB_MAXCONN: '1000', EMOSTREAM_NODE1: nodes[0], EMOSTREAM_NODE2: nodes[1] };
  const proc = track(spawn('haproxy', ['-db', '-f', 'deploy/haproxy.cfg'], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  await until(async () => {
    if (proc.child.exitCode !== null) return true;
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
    } catch {
      return false;
    }
  }, 'haproxy answering /healthz', 60_000);
  if (proc.child.exitCode !== null) throw new Error(`haproxy failed: ${proc.output()}`);
  return { ...proc, port };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
