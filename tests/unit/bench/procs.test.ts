import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, groupMembers, liveCount, spawnManaged, stopAll, stopManaged, waitReady } from '../../../bench/procs.js';
import { loopbackHaproxyConfig, redisPing, startHaproxy, startRedis } from '../../../bench/services.js';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
/** Whether a pid is a live (not zombie) process. */
const runs = (pid: number) => { try { return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('stopping a managed process stops the processes it forked too (its whole group)', async () => {
  const m = spawnManaged('tree', 'sh', ['-c', 'sleep 300 & sleep 300 & wait']);
  await waitReady(m, 'its two children', async () => groupMembers(m.pgid).length >= 3, 10_000, 20);
  const members = groupMembers(m.pgid);
  await stopManaged(m, 2000);
  assert.deepEqual(groupMembers(m.pgid), []);
  // Gone, or a zombie waiting for its reaper: nothing of the group still runs.
  for (const pid of members) assert.ok(!runs(pid), `pid ${pid} still runs`);
  assert.equal(liveCount(), 0);
});

test('a process that ignores SIGTERM is killed after the grace period', async () => {
  const m = spawnManaged('stubborn', 'sh', ['-c', 'trap "" TERM; sleep 300 & wait; sleep 300']);
  await waitReady(m, 'its child', async () => groupMembers(m.pgid).length >= 2, 10_000, 20);
  await stopManaged(m, 300);
  assert.deepEqual(groupMembers(m.pgid), []);
});

test('waitReady names the process and its output when it exits early', async () => {
  const m = spawnManaged('quitter', 'sh', ['-c', 'echo bad-config-line >&2; exit 3']);
  await assert.rejects(waitReady(m, 'health', async () => false, 10_000, 20), /quitter exited \(3\) before health: bad-config-line/);
  await stopManaged(m);
});

test('Ctrl-C (SIGINT) to a bench stops every child group it started, then exits 130', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-procs-test-'));
  const script = join(dir, 'bench-like.ts');
  writeFileSync(script, `import { spawnManaged } from ${JSON.stringify(resolve('bench/procs.ts'))};
    const a = spawnManaged('a', 'sh', ['-c', 'sleep 300 & wait']);
    const b = spawnManaged('b', 'sleep', ['300']);
    console.log('groups', a.pgid, b.pgid);
    setInterval(() => undefined, 1000);\n`);
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const pgids = await new Promise<number[]>((res, rej) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); const m = /groups (\d+) (\d+)/.exec(out); if (m) res([Number(m[1]), Number(m[2])]); });
      child.once('exit', (c) => rej(new Error(`exited ${c}`)));
    });
    for (let i = 0; i < 100 && groupMembers(pgids[0]).length < 2; i++) await sleep(20);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    assert.equal(code, 130);
    for (const g of pgids) assert.deepEqual(groupMembers(g), [], `group ${g} left behind`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loopbackHaproxyConfig rewrites binds, servers and TLS for a loopback run, keeping health-check options', () => {
  const cfg = loopbackHaproxyConfig(`global
  daemon
  user haproxy
  stats socket /run/haproxy/admin.sock mode 660
  log /dev/log local0
  maxconn 40000
frontend fe
  bind :443 ssl crt /etc/haproxy/certs/emostream.pem
  default_backend nodes
listen stats
  bind :8404
  stats enable
backend nodes
  balance leastconn
  option httpchk GET /healthz
  server a 10.0.0.1:8080 check inter 2s fall 3 rise 2 ssl verify none
  server b 10.0.0.2:8080 check inter 2s fall 3 rise 2 ssl verify none
`, 9000, [9001, 9002, 9003], [9100]);
  assert.match(cfg, /bind 127\.0\.0\.1:9000\n/);
  assert.match(cfg, /bind 127\.0\.0\.1:9100\n/);
  assert.doesNotMatch(cfg, /daemon|user haproxy|stats socket|\/dev\/log|ssl|crt|10\.0\.0/);
  assert.match(cfg, /^ {2}maxconn 8000$/m);
  const servers = cfg.split('\n').filter((l) => l.trim().startsWith('server '));
  assert.deepEqual(servers.map((l) => l.trim()), [9001, 9002, 9003].map((p, k) => `server node${k + 1} 127.0.0.1:${p} check inter 2s fall 3 rise 2`));
  assert.throws(() => loopbackHaproxyConfig('frontend a\n  bind :1\nlisten b\n  bind :2\n', 1, [2]), /more bind lines than ports/);
});

test('redis-server starts on a free loopback port without persistence, answers PING, and is gone after stop', { skip: have('redis-server') ? false : 'redis-server not installed (apt-get install -y redis-server)' }, async () => {
  const redis = await startRedis();
  try {
    assert.equal(await redisPing(redis.port), true);
    const cfg = spawnSync('redis-cli', ['-p', String(redis.port), 'CONFIG', 'GET', 'save'], { encoding: 'utf8' });
    if (cfg.status === 0) assert.match(cfg.stdout, /^save\n\n?$/m);
  } finally {
    await stopAll();
  }
  assert.equal(await redisPing(redis.port), false);
  assert.deepEqual(groupMembers(redis.proc.pgid), []);
});

test('haproxy balances HTTP over every backend and stops cleanly', { skip: have('haproxy') ? false : 'haproxy not installed (apt-get install -y haproxy)' }, async () => {
  const hits = [0, 0];
  const backends: Server[] = hits.map((_, k) => createServer((req, res) => { hits[k]++; res.end(`node${k}`); }));
  const ports = await Promise.all(backends.map((s) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)))));
  const cfgDir = mkdtempSync(join(tmpdir(), 'emostream-haproxy-test-'));
  const template = join(cfgDir, 'haproxy.cfg');
  writeFileSync(template, 'defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\nfrontend f\n  bind :80\n  default_backend b\nbackend b\n  balance roundrobin\n  server x 127.0.0.1:1 check inter 300ms fall 2\n');
  try {
    const lb = await startHaproxy(ports, template, '/x', 1500);
    assert.equal(lb.template, template);
    const bodies = new Set<string>();
    for (let i = 0; i < 8; i++) bodies.add(await (await fetch(`http://127.0.0.1:${lb.port}/x`)).text());
    assert.deepEqual([...bodies].sort(), ['node0', 'node1']);
    await stopAll();
    assert.deepEqual(groupMembers(lb.proc.pgid), []);
    await assert.rejects(fetch(`http://127.0.0.1:${lb.port}/x`));
  } finally {
    await stopAll();
    backends.forEach((s) => s.close());
    rmSync(cfgDir, { recursive: true, force: true });
  }
});

test('a balancer whose health check cannot pass fails at start with the reason, not with 503s later', { skip: have('haproxy') ? false : 'haproxy not installed' }, async () => {
  // Answers every path except the one the check asks for, as uWS did for HAProxy's HTTP/1.0 check.
  const backend = createServer((req, res) => { res.statusCode = req.url === '/healthz' ? 400 : 200; res.end('x'); });
  const port = await new Promise<number>((r) => backend.listen(0, '127.0.0.1', () => r((backend.address() as { port: number }).port)));
  const cfgDir = mkdtempSync(join(tmpdir(), 'emostream-haproxy-test-'));
  const template = join(cfgDir, 'haproxy.cfg');
  writeFileSync(template, 'defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\nfrontend f\n  bind :80\n  default_backend b\n' +
    'backend b\n  option httpchk GET /healthz\n  http-check expect status 200\n  server x 127.0.0.1:1 check inter 200ms fall 2\n');
  try {
    await assert.rejects(startHaproxy([port], template, '/x', 1500), /marked the backends down .* health check does not get 200|every backend failed its health check .*Layer7 wrong status/s);
    assert.equal(liveCount(), 0);
  } finally {
    await stopAll();
    backend.close();
    rmSync(cfgDir, { recursive: true, force: true });
  }
});

test('freePort gives a port that can be bound', async () => {
  const port = await freePort();
  const s = createServer();
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
  s.close();
});
