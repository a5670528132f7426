import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's PostgreSQL server binaries (apt-get install postgresql), newest major first. */
function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
    if (existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  }
  return null;
}

function postgresUser(): { uid: number; gid: number } | null {
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
  } catch {
    return null;
  }
}

/** Why PostgreSQL tests cannot run here, or false when they can. */
export function postgresSkip(): string | false {
  if (!binDir()) return 'PostgreSQL server binaries absent (/usr/lib/postgresql/*/bin): apt-get install postgresql';
  if (!postgresUser()) return 'no postgres system user (apt-get install postgresql creates it)';
  if (process.getuid?.() !== 0) return 'PostgreSQL tests start a cluster as the postgres user through runuser, which needs root';
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/emostream (trust authentication on loopback only). */
  url: string;
  port: number;
  start(): void;
  /** Immediate stop: what a crash or a pulled plug looks like to clients. */
  stop(): void;
  destroy(): void;
}

/**
 * A throw-away PostgreSQL cluster in a temp folder, owned and run by the postgres user (runuser), listening on
 * 127.0.0.1 on a free port with its socket in the same folder; `destroy` stops it and removes the folder.
 */
export async function startPostgres(): Promise<PgCluster> {
  const bin = binDir()!;
  const user = postgresUser()!;
  const dir = mkdtempSync(join(tmpdir(), 'emo-pg-'));
  chmodSync(dir, 0o700);
  chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const as = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe', timeout: 60_000 });
  as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=40 -c shared_buffers=16MB`;
  const start = () => { as('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']); };
  const stop = () => { as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); };
  start();
  execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'createdb'), '-h', dir, '-p', String(port), 'emostream'], { stdio: 'pipe' });
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/emostream`,
    port,
    start: () => { start(); running = true; },
    stop: () => { stop(); running = false; },
    destroy: () => {
      try {
        if (running) stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
