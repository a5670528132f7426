/**
 * The real infrastructure a multi-node benchmark runs against, started on loopback for the run and stopped after it:
 * redis-server (no persistence, a free port) and HAProxy in front of the nodes, configured from deploy/haproxy.cfg
 * when it exists (ports, addresses and TLS rewritten for loopback) or from the built-in equivalent below.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnManaged, stopManaged, waitReady, type Managed } from './procs.js';

export interface Service { proc: Managed; port: number }

/** One round trip of the Redis protocol: PING -> +PONG. */
export function redisPing(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    let buf = '';
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { buf += d.toString(); if (buf.includes('\r\n')) done(buf.startsWith('+PONG')); });
  });
}

function requireBinary(bin: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
    throw new Error(`${bin} not found: install it (Debian: apt-get install -y ${pkg})`);
  }
}

/** redis-server on a free loopback port, nothing written to disk (no RDB snapshots, no AOF), its temp dir removed on stop. */
export async function startRedis(): Promise<Service & { url: string; dir: string }> {
  requireBinary('redis-server', 'redis-server');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-redis-'));
  const proc = spawnManaged('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning']);
  proc.child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await waitReady(proc, 'a PONG', () => redisPing(port), 15_000).catch(async (err: unknown) => { await stopManaged(proc, 1000); throw err; });
  return { proc, port, url: `redis://127.0.0.1:${port}`, dir };
}

/** The balancer this bench falls back to when deploy/haproxy.cfg is absent: the same shape a deployment uses. */
export const DEFAULT_HAPROXY_CFG = `global
  maxconn 8000

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  # WebSocket sessions live for as long as a client streams.
  timeout tunnel 1h

frontend emostream
  bind :8080
  default_backend nodes

backend nodes
  balance leastconn
  # HTTP/1.1 with a Host header: uWebSockets.js does not answer HAProxy's default HTTP/1.0 check (the node would be
  # marked down 2 s after the start and every request answered 503).
  option httpchk
  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host emostream
  http-check expect status 200
  server node1 127.0.0.1:8081 check inter 1s fall 2 rise 2
`;

const SERVER_OPTS_DROPPED = new Set(['ssl', 'verify', 'ca-file', 'crt', 'sni', 'check-ssl']);
const SERVER_OPTS_WITH_VALUE = new Set(['verify', 'ca-file', 'crt', 'sni']);

/**
 * A loopback copy of a HAProxy config: the first `bind` line gets `frontendPort`, every other `bind` a port from
 * `otherPorts` (e.g. a stats page), all on 127.0.0.1 without TLS; each backend's `server` / `server-template` lines
 * become one line per given backend, keeping the first line's options (health checks etc.) minus TLS ones; settings a
 * bench run must not have (daemon, user/group, chroot, stats sockets, pid files, syslog) are dropped, and the global
 * `maxconn` is capped at `maxconnCap` (HAProxy refuses to start when it cannot raise its file limit to ~2 x maxconn).
 */
export function loopbackHaproxyConfig(template: string, frontendPort: number, backends: number[], otherPorts: number[] = [], maxconnCap = 8000): string {
  const out: string[] = [];
  let section = '';
  let firstBind = true;
  let serversWritten = false;
  let extra = 0;
  for (const line of template.split('\n')) {
    const t = line.trim();
    const indent = line.slice(0, line.length - line.trimStart().length) || '  ';
    const word = t.split(/\s+/)[0];
    if (/^(frontend|backend|listen|defaults|global|resolvers|peers|userlist|program|cache)\b/.test(t)) {
      serversWritten = false;
      section = word;
    }
    // A value taken from the environment ("${EMOSTREAM_LB_MAXCONN-20000}") is not a number here: cap it too.
    if (section === 'global' && word === 'maxconn' && !(Number(t.split(/\s+/)[1]) <= maxconnCap)) {
      out.push(`${indent}maxconn ${maxconnCap}`);
      continue;
    }
    if (['daemon', 'user', 'group', 'chroot', 'pidfile', 'log', 'uid', 'gid', 'master-worker'].includes(word) || /^stats\s+socket\b/.test(t)) continue;
    if (word === 'bind') {
      const port = firstBind ? frontendPort : otherPorts[extra++];
      if (port === undefined) throw new Error(`haproxy config has more bind lines than ports given (${t})`);
      firstBind = false;
      out.push(`${indent}bind 127.0.0.1:${port}`);
      continue;
    }
    if (word === 'server' || word === 'server-template') {
      if (serversWritten) continue;
      serversWritten = true;
      const tokens = t.split(/\s+/).slice(word === 'server' ? 3 : 4);
      const opts: string[] = [];
      for (let i = 0; i < tokens.length; i++) {
        if (SERVER_OPTS_DROPPED.has(tokens[i])) { if (SERVER_OPTS_WITH_VALUE.has(tokens[i])) i++; continue; }
        opts.push(tokens[i]);
      }
      backends.forEach((port, k) => out.push(`${indent}server node${k + 1} 127.0.0.1:${port}${opts.length ? ' ' + opts.join(' ') : ''}`));
      continue;
    }
    out.push(line);
  }
  if (firstBind) throw new Error('haproxy config has no bind line');
  return out.join('\n');
}

/** How many bind lines a config has (the first is the frontend; the others need ports of their own). */
export function bindCount(cfg: string): number {
  return cfg.split('\n').filter((l) => l.trim().split(/\s+/)[0] === 'bind').length;
}

/**
 * HAProxy in the foreground (-db) on a free loopback port in front of `backends`, from `templatePath` if it exists
 * (deploy/haproxy.cfg) or the default above. The generated copy is checked with `haproxy -c` before it starts, and
 * the balancer is ready when `readyPath` answers 200 through it (so at least one backend is up), and still does
 * `settleMs` later (after the first health checks).
 */
export async function startHaproxy(backends: number[], templatePath = 'deploy/haproxy.cfg', readyPath = '/healthz', settleMs = 3000):
  Promise<Service & { cfgPath: string; template: string; config: string }> {
  requireBinary('haproxy', 'haproxy');
  const template = existsSync(templatePath) ? templatePath : 'built-in (bench/services.ts)';
  const text = existsSync(templatePath) ? readFileSync(templatePath, 'utf8') : DEFAULT_HAPROXY_CFG;
  const port = await freePort();
  const others = await Promise.all(Array.from({ length: Math.max(0, bindCount(text) - 1) }, () => freePort()));
  const config = loopbackHaproxyConfig(text, port, backends, others);
  const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-haproxy-'));
  const cfgPath = join(dir, 'haproxy.cfg');
  writeFileSync(cfgPath, config.endsWith('\n') ? config : config + '\n');
  const check = spawnSync('haproxy', ['-c', '-q', '-f', cfgPath], { encoding: 'utf8' });
  if (check.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`haproxy rejected the config generated from ${template}: ${check.stdout}${check.stderr}`);
  }
  const proc = spawnManaged('haproxy', 'haproxy', ['-db', '-f', cfgPath]);
  proc.child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const ok = async () => (await fetch(`http://127.0.0.1:${port}${readyPath}`)).status === 200;
  const fail = async (err: unknown) => { await stopManaged(proc, 1000); throw err; };
  const noBackend = () => (proc.log.some((l) => l.includes('has no server available')) ? 'every backend failed its health check' : null);
  await waitReady(proc, `200 on ${readyPath} through the balancer`, ok, 30_000, 200, noBackend).catch(fail);
  // Servers start "up"; a health check that cannot pass marks them down only after a few intervals. Look again
  // after those, so a broken check fails here with a reason instead of as 503s in the middle of the load.
  await new Promise((r) => setTimeout(r, settleMs));
  if (!(await ok().catch(() => false))) {
    await fail(new Error(`HAProxy (${template}) marked the backends down ${settleMs} ms after start: its health check does not get 200 from ${readyPath} ` +
      '(uWebSockets.js needs HTTP/1.1 with a Host header: http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host x)'));
  }
  return { proc, port, cfgPath, template, config };
}
