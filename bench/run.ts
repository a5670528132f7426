/**
 * Load benchmark: N concurrent clients replay real RAVDESS clips (../shared) at real-time pace against a server in a
 * separate process, with AU frames at 30 fps built from each clip's OpenFace clip-mean AUs (no per-frame AUs exist
 * for RAVDESS here). Reports client-measured end-to-end latency, server-side latency per stage, results per second,
 * dropped windows, server CPU and peak RSS, the batch-size histogram, and writes JSON with the machine's details.
 *
 *   npm run bench -- --sessions 64 --seconds 30 --transport uws --batching on --provider cpu [--cpu-prof DIR] [--auth on]
 *   npm run bench -- --sessions 128 --processes 2            (one node of 2 processes, server.processes)
 *   npm run bench -- --sessions 128 --nodes 2                (2 nodes + redis-server + HAProxy, all on loopback)
 *
 * --nodes K starts K servers on free loopback ports sharing one redis-server (started here, no persistence) behind
 * HAProxy (deploy/haproxy.cfg rewritten for loopback, or bench/services.ts's equivalent); the load goes through the
 * balancer. The report then also has the topology and each node's, process's, redis's and the balancer's CPU and
 * memory (bench/topology-stats.ts); `cpuPercent` is all server processes of all nodes together.
 *
 * --auth on runs the server with server.auth.mode jwt (a fresh HS256 secret per run, handed to the server and to
 * load-generator children through EMOSTREAM_AUTH_JWT_SECRET) and gives every session its own publish token, so
 * auth on and off can be compared side by side.
 */
import { spawn, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release, arch, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { EmoStreamClient } from '../clients/node/index.js';
import { mintToken } from '../src/auth/mint.js';
import type { Scope } from '../src/auth/types.js';
import { clipId, readAuCsv } from '../clients/node/openface-csv.js';
import { percentile } from '../clients/node/timeline.js';
import { hasShared, listSpeechClips, RAVDESS_DIR } from '../src/training/ravdess.js';
import { readWavS16 } from './wav.js';
import { redact } from '../src/storage/target.js';
import { bucketDelta, counterSum, parseHistogram, sampleProc, sampleThreads, threadCpuPercent } from './proc-stats.js';
import { startTopology, type Topology } from './topology.js';
import { stopAll } from './procs.js';
import { snapshot, sumHistograms, topologyReport } from './topology-stats.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '20' },
    /**
     * Seconds at the start of the load whose results are left out of the latency percentiles (reported apart as
     * warmupLatencyMs): every session connects and starts within one hop on a cold JIT, which no running server sees.
     * Dropped windows and the result rate still count over the whole run.
     */
    'warmup-s': { type: 'string', default: '0' },
    transport: { type: 'string', default: 'uws' },
    /** on: the server verifies a JWT on every connection (server.auth.mode jwt); off: auth none. */
    auth: { type: 'string', default: 'off' },
    batching: { type: 'string', default: 'on' },
    provider: { type: 'string', default: 'cpu' },
    port: { type: 'string', default: '18090' },
    'chunk-ms': { type: 'string', default: '20' },
    'au-fps': { type: 'string', default: '30' },
    workers: { type: 'string', default: '1' },
    /** Speech front-end threads (streaming.featureWorkers); unset = the server's default. */
    'feature-workers': { type: 'string' },
    /** Batcher's max queue delay (models.batching.maxDelayMs); unset = the server's default. */
    'max-delay-ms': { type: 'string' },
    /** server.eventLoops: now a deprecated alias of --processes (server.processes); kept so older commands still run. */
    'event-loops': { type: 'string' },
    /** Server processes per node (server.processes, EMOSTREAM_PROCESSES); unset = the server's default (1). */
    processes: { type: 'string' },
    /** Server nodes on loopback behind HAProxy (K > 1 also starts redis-server for cluster.redisUrl). */
    nodes: { type: 'string', default: '1' },
    /** redis-server between the nodes: auto (on when --nodes > 1), on, off. */
    redis: { type: 'string', default: 'auto' },
    /** HAProxy in front: auto (when --nodes > 1), on (also for one node: to see what the balancer alone costs). */
    balancer: { type: 'string', default: 'auto' },
    /** HAProxy config to copy for loopback (binds, servers rewritten); absent: the built-in one. */
    'haproxy-cfg': { type: 'string', default: 'deploy/haproxy.cfg' },
    /** Marks the JSON as a smoke run (tiny sizes, busy machine: proves a mode works, measures nothing). */
    smoke: { type: 'boolean', default: false },
    /**
     * Session history of the server under test: off (EMOSTREAM_DATABASE_URL=none, the bench's default, as before
     * history existed), on (SQLite in a temp folder, removed at exit: the server's default store), or a database URL
     * (postgres://..., sqlite:PATH). For storage on vs off side by side: bench:capacity -- --extra "--storage on".
     */
    storage: { type: 'string', default: 'off' },
    out: { type: 'string' },
    url: { type: 'string' },
    seed: { type: 'string', default: '1' },
    /** Folder for V8 CPU profiles of the server process (main thread and each worker thread write one). */
    'cpu-prof': { type: 'string' },
    /**
     * Load-generator processes (default 1). One Node process sends ~80 messages per session-second and tops out at
     * one core (~36 % of one at 256 sessions here), so on a many-core host a single generator, not the server, would
     * bound a large run. With K > 1 the sessions are split over K child processes that start together and whose
     * raw latencies are merged before the percentiles are taken.
     */
    'load-processes': { type: 'string', default: '1' },
    /** Internal (child of --load-processes): drive sessions [offset, offset + sessions) of `total` and write raw results here. */
    'load-child': { type: 'string' },
    'session-offset': { type: 'string', default: '0' },
    'total-sessions': { type: 'string' },
  },
});

const sessions = Number(args.sessions);
const seconds = Number(args.seconds);
const warmupS = Number(args['warmup-s']);
if (!(warmupS >= 0 && warmupS < seconds)) {
  console.error(`--warmup-s must be >= 0 and shorter than --seconds (got ${args['warmup-s']})`);
  process.exit(2);
}
const transport = args.transport as 'uws' | 'ws';
const chunkMs = Number(args['chunk-ms']);
const auFps = Number(args['au-fps']);
if (!hasShared()) {
  console.error(`bench needs RAVDESS under ${RAVDESS_DIR} (../shared); not found`);
  process.exit(2);
}
if (!['uws', 'ws'].includes(transport) || !['on', 'off'].includes(args.batching!) || !['on', 'off'].includes(args.auth!)) {
  console.error('--transport uws|ws, --batching on|off, --auth on|off');
  process.exit(2);
}
// With --auth on: one secret per run, in the environment the server and the load-generator children inherit.
const benchSecret = args.auth === 'on' ? (process.env.EMOSTREAM_AUTH_JWT_SECRET ||= randomBytes(32).toString('base64url')) : null;
const tokenFor = async (sub: string, scopes: Scope[]): Promise<string | undefined> => (benchSecret
  ? mintToken({ secret: benchSecret, sub, scopes, ttlS: 6 * 3600, audience: process.env.EMOSTREAM_AUTH_AUDIENCE || 'emostream' })
  : undefined);
/** Headers for /v1/models and /metrics (admin with auth on). */
const adminHeaders = async (): Promise<Record<string, string>> => {
  const t = await tokenFor('bench-admin', ['admin']);
  return t ? { authorization: `Bearer ${t}` } : {};
};

const loadProcesses = Number(args['load-processes']);
const childOut = args['load-child'];
const sessionOffset = Number(args['session-offset']);
const totalSessions = args['total-sessions'] !== undefined ? Number(args['total-sessions']) : sessions;
if (!(Number.isInteger(loadProcesses) && loadProcesses >= 1 && loadProcesses <= sessions)) {
  console.error(`--load-processes must be an integer from 1 to --sessions (got ${args['load-processes']})`);
  process.exit(2);
}
if (childOut && !args.url) {
  console.error('--load-child needs --url (the parent starts the server)');
  process.exit(2);
}

/** Deterministic clip choice per session (a fixed LCG), so runs are comparable. */
function pickClips(n: number, seed: number) {
  const clips = listSpeechClips();
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return clips[s % clips.length];
  });
}

/** EMOSTREAM_DATABASE_URL for --storage (a temp SQLite file for `on`, its folder removed when the bench exits). */
function storageUrl(storage: string): string {
  if (storage === 'off') return 'none';
  if (storage !== 'on') return storage;
  const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-db-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'history.sqlite')}`;
}

async function startServers(port: number): Promise<Topology> {
  const profArgs = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  const nodes = Number(args.nodes);
  if (!['auto', 'on', 'off'].includes(args.redis!) || !['auto', 'on'].includes(args.balancer!)) {
    throw new Error('--redis auto|on|off, --balancer auto|on');
  }
  return startTopology({
    nodes, processes: args.processes !== undefined ? Number(args.processes) : undefined,
    redis: args.redis === 'on' || (args.redis === 'auto' && nodes > 1), balancer: args.balancer === 'on', haproxyCfg: args['haproxy-cfg']!,
    port, nodeFlags: profArgs, serveArgs: ['serve', '--transport', transport, '--provider', args.provider!], drainTimeoutMs: 2000,
    env: {
      ...process.env, EMOSTREAM_LOG_LEVEL: 'warn', EMOSTREAM_AUTH: args.auth === 'on' ? 'jwt' : 'none', EMOSTREAM_BATCHING: args.batching === 'on' ? 'true' : 'false',
      EMOSTREAM_MAX_SESSIONS: String(Math.max(512, sessions * 2)), EMOSTREAM_VIDEO: 'false', EMOSTREAM_WORKERS: args.workers,
      ...(args['feature-workers'] !== undefined ? { EMOSTREAM_FEATURE_WORKERS: args['feature-workers'] } : {}),
      ...(args['max-delay-ms'] !== undefined ? { EMOSTREAM_MAX_DELAY_MS: args['max-delay-ms'] } : {}),
      ...(args['event-loops'] !== undefined ? { EMOSTREAM_EVENT_LOOPS: args['event-loops'] } : {}),
      EMOSTREAM_DATABASE_URL: storageUrl(args.storage!),
    },
  });
}

interface SessionPlan {
  audio: Int16Array;
  aus: { ptsUs: number; aus: number[] }[];
  clips: string[];
}

/** `seconds` of audio per session: its clip, then the following clips, concatenated; AUs per clip at 30 fps. */
function planSession(first: number, allClips: ReturnType<typeof listSpeechClips>, auTable: string): SessionPlan {
  const target = Math.round(seconds * 16000);
  const parts: Int16Array[] = [];
  const aus: SessionPlan['aus'] = [];
  const names: string[] = [];
  let len = 0;
  for (let i = first; len < target; i = (i + 1) % allClips.length) {
    const clip = allClips[i];
    const wav = readWavS16(clip.path);
    if (wav.sampleRate !== 16000) throw new Error(`${clip.path}: expected 16 kHz`);
    const durS = wav.samples.length / 16000;
    const track = readAuCsv(auTable, { mediaFile: clip.path, durationS: durS, fps: auFps });
    const offsetUs = (len / 16000) * 1e6;
    for (const f of track.frames) aus.push({ ptsUs: Math.round(offsetUs + f.ptsUs), aus: f.aus });
    parts.push(wav.samples);
    names.push(clipId(clip.path));
    len += wav.samples.length;
  }
  const audio = new Int16Array(target);
  let off = 0;
  for (const p of parts) {
    audio.set(p.subarray(0, Math.min(p.length, target - off)), off);
    off += p.length;
    if (off >= target) break;
  }
  return { audio, aus: aus.filter((a) => a.ptsUs < (target / 16000) * 1e6), clips: names };
}

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

/** What one load generator measured: per-result latencies in arrival order, and per-session counts. */
interface LoadRaw {
  /** End-to-end latency of every result that had one, and when it arrived (s since the load started). */
  e2e: number[];
  e2eAtS: number[];
  /** Server-side latency fields of the results that arrived after the warm-up. */
  stages: { queue: number[]; speech: number[]; face: number[]; fuse: number[]; total: number[] };
  /** Results per session, and the session's dropped-window count in its last result. */
  resultsPerSession: number[];
  droppedPerSession: number[];
  errors: number;
  lagMaxMs: number;
  wallS: number;
  /** CPU seconds this generator used while the load ran (not its start-up or connecting). */
  cpuS: number;
}

/**
 * Replays `plans` at real-time pace over one connection each and collects what the clients see. `go` resolves when
 * the load should start (a child of --load-processes waits for its parent's word so every generator starts together).
 * Sessions start spread over one hop, as independent users would: session `offset + i` of `total` at
 * (offset + i) / total of a hop.
 */
async function driveLoad(url: string, plans: SessionPlan[], hopMs: number, offset: number, total: number, go: () => Promise<void>,
  onTick: () => void = () => undefined): Promise<LoadRaw> {
  const tokens = await Promise.all(plans.map((_, i) => tokenFor(`bench-${offset + i}`, ['publish'])));
  const clients = await Promise.all(plans.map((_, i) => EmoStreamClient.connect({ url, client: 'bench', token: tokens[i] })));
  await go();
  const cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const raw: LoadRaw = {
    e2e: [], e2eAtS: [], stages: { queue: [], speech: [], face: [], fuse: [], total: [] },
    resultsPerSession: plans.map(() => 0), droppedPerSession: plans.map(() => 0), errors: 0, lagMaxMs: 0, wallS: 0, cpuS: 0,
  };
  const keep = (xs: number[], v: number | null | undefined) => { if (typeof v === 'number') xs.push(v); };
  const readers = clients.map((c, i) => (async () => {
    for await (const r of c.results()) {
      const lat = c.latencyMs(r);
      const atS = (performance.now() - t0) / 1000;
      raw.resultsPerSession[i]++;
      raw.droppedPerSession[i] = r.droppedWindows;
      if (atS >= warmupS) {
        keep(raw.stages.queue, r.latency.queueMs); keep(raw.stages.speech, r.latency.speechMs); keep(raw.stages.face, r.latency.faceMs);
        keep(raw.stages.fuse, r.latency.fuseMs); keep(raw.stages.total, r.latency.totalMs);
      }
      if (lat !== null) {
        raw.e2e.push(lat);
        raw.e2eAtS.push(atS);
      }
    }
  })());

  const chunk = Math.round((16000 * chunkMs) / 1000);
  const startOffsetMs = plans.map((_, i) => ((offset + i) * hopMs) / total);
  const sent = plans.map(() => ({ samples: 0, au: 0, done: false }));
  t0 = performance.now();
  // One ticker drives every session: each tick sends whatever audio/AU frames are due by the wall clock.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - t0;
      let allDone = true;
      for (let i = 0; i < plans.length; i++) {
        const s = sent[i];
        if (s.done) continue;
        allDone = false;
        const p = plans[i];
        const mediaMs = now - startOffsetMs[i];
        while (s.samples < p.audio.length && ((s.samples + chunk) / 16) <= mediaMs) {
          const ptsUs = Math.round((s.samples / 16000) * 1e6);
          const end = Math.min(s.samples + chunk, p.audio.length);
          while (s.au < p.aus.length && p.aus[s.au].ptsUs < ((end / 16000) * 1e6)) {
            clients[i].sendAu(p.aus[s.au].aus, p.aus[s.au].ptsUs);
            s.au++;
          }
          clients[i].sendAudio(p.audio.subarray(s.samples, end), { sampleRate: 16000, channels: 1, ptsUs });
          raw.lagMaxMs = Math.max(raw.lagMaxMs, mediaMs - end / 16);
          s.samples = end;
        }
        if (s.samples >= p.audio.length) {
          s.done = true;
          void clients[i].end();
        }
      }
      onTick();
      if (allDone) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  await Promise.all(readers);
  raw.wallS = (performance.now() - t0) / 1000;
  raw.errors = clients.reduce((s, c) => s + c.errors.length, 0);
  const cpu = process.cpuUsage(cpu0);
  raw.cpuS = (cpu.user + cpu.system) / 1e6;
  return raw;
}

function mergeRaw(parts: LoadRaw[]): LoadRaw {
  const cat = (get: (r: LoadRaw) => number[]) => parts.flatMap(get);
  return {
    e2e: cat((r) => r.e2e), e2eAtS: cat((r) => r.e2eAtS),
    stages: {
      queue: cat((r) => r.stages.queue), speech: cat((r) => r.stages.speech), face: cat((r) => r.stages.face),
      fuse: cat((r) => r.stages.fuse), total: cat((r) => r.stages.total),
    },
    resultsPerSession: cat((r) => r.resultsPerSession), droppedPerSession: cat((r) => r.droppedPerSession),
    errors: parts.reduce((s, r) => s + r.errors, 0),
    lagMaxMs: Math.max(...parts.map((r) => r.lagMaxMs)),
    wallS: Math.max(...parts.map((r) => r.wallS)),
    cpuS: parts.reduce((s, r) => s + r.cpuS, 0),
  };
}

/** The sessions' plans: clip choice over all `total` sessions (so a split run replays the same clips), this slice of them. */
function planSlice(offset: number, count: number): SessionPlan[] {
  const allClips = listSpeechClips();
  const auTable = join(RAVDESS_DIR, 'openface', 'clip-mean-aus.csv');
  const firsts = pickClips(totalSessions, Number(args.seed)).map((c) => allClips.findIndex((x) => x.path === c.path));
  return firsts.slice(offset, offset + count).map((f) => planSession(f, allClips, auTable));
}

/** --load-child: drive this slice against the parent's server, say "ready", wait for "go" on stdin, write the raw results. */
async function childMain(out: string) {
  const plans = planSlice(sessionOffset, sessions);
  const hopMs = Number(((await (await fetch(`${args.url!.replace('ws://', 'http://')}/v1/models`, { headers: await adminHeaders() })).json()) as { hopMs: number }).hopMs);
  const go = () => new Promise<void>((resolve) => {
    process.stdin.once('data', () => resolve());
    // The parent went away before the word: nothing will come, so do not wait for ever.
    process.stdin.once('end', () => process.exit(1));
    process.stdout.write('ready\n');
  });
  const raw = await driveLoad(args.url!, plans, hopMs, sessionOffset, totalSessions, go);
  writeFileSync(out, JSON.stringify(raw));
  process.exit(0);
}

/** Runs K child generators over slices of the sessions; they connect, then all start on one word from here. */
async function runChildren(url: string, onTick: () => void): Promise<LoadRaw> {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-'));
  const sizes = Array.from({ length: loadProcesses }, (_, k) => Math.floor(sessions / loadProcesses) + (k < sessions % loadProcesses ? 1 : 0));
  let offset = 0;
  const children = sizes.map((n, k) => {
    const file = join(dir, `load-${k}.json`);
    const childArgs = ['--import', 'tsx', 'bench/run.ts', '--url', url, '--sessions', String(n), '--total-sessions', String(sessions),
      '--session-offset', String(offset), '--seconds', String(seconds), '--warmup-s', String(warmupS), '--chunk-ms', String(chunkMs),
      '--au-fps', String(auFps), '--seed', args.seed!, '--auth', args.auth!, '--load-child', file];
    offset += n;
    const child = spawn(process.execPath, childArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
    // If this process ends first (an error, a timeout's SIGINT), its generators end with it.
    process.once('exit', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
      child.once('exit', (code) => reject(new Error(`load generator ${k} exited (${code}) before it was ready`)));
    });
    const done = new Promise<LoadRaw>((resolve, reject) => {
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`load generator ${k} exited with ${code}`));
        else resolve(JSON.parse(readFileSync(file, 'utf8')) as LoadRaw);
      });
    });
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin!.write('go\n');
  const timer = setInterval(onTick, 50);
  try {
    return mergeRaw(await Promise.all(children.map((c) => c.done)));
  } finally {
    clearInterval(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const port = Number(args.port);
  const server = args.url ? null : await startServers(port);
  const url = args.url ?? server!.url;
  // Each node's own /metrics (through the balancer a scrape would reach one node only); counters and histograms are
  // summed over the nodes, gauges (event-loop delay) are the first node's.
  const metricsUrls = server ? server.nodes.map((n) => `${n.httpUrl}/metrics`) : [`${url.replace('ws://', 'http://')}/metrics`];
  const scrape = async () => Promise.all(metricsUrls.map(async (u) => (await fetch(u, { headers: await adminHeaders() })).text()));
  const httpUrl = url.replace('ws://', 'http://');
  const plans = loadProcesses === 1 ? planSlice(0, sessions) : [];
  const modelsRes = await fetch(`${httpUrl}/v1/models`, { headers: await adminHeaders() });
  if (!modelsRes.ok) throw new Error(`GET ${httpUrl}/v1/models: ${modelsRes.status} ${(await modelsRes.text()).slice(0, 300)}`);
  const models = (await modelsRes.json()) as { models: { name: string; available: boolean; provider?: string; error?: string }[]; hopMs: number; windowMs: number; featureWorkers?: number };
  const metricsBeforeByNode = await scrape();
  // Each node's /healthz at the start: in a cluster it names the node and counts the nodes it sees through Redis.
  const healthAtStart = server ? await Promise.all(server.nodes.map(async (n) => (await fetch(`${n.httpUrl}/healthz`)).json() as Promise<Record<string, unknown>>)) : null;
  const metricsBefore = metricsBeforeByNode.join('\n');
  for (const m of models.models.filter((x) => !x.available && !/disabled in configuration/.test(x.error ?? ''))) {
    console.warn(`warning: model ${m.name} unavailable (${m.error}); its posteriors will be null in this run`);
  }

  const hopMs = models.hopMs;
  const serverPid = server?.nodes[0].proc.pgid;
  // Taken when the load starts (after every client has connected), so connecting is not in the CPU figures.
  const start = { cpu: null as ReturnType<typeof sampleProc>, threads: null as ReturnType<typeof sampleThreads> | null, benchCpu: process.cpuUsage() };
  let peakRssMb = 0;
  let topoStart: ReturnType<typeof snapshot> | null = null;
  const startMeasuring = () => {
    topoStart = server ? snapshot(server) : null;
    start.cpu = serverPid ? sampleProc(serverPid) : null;
    start.threads = serverPid ? sampleThreads(serverPid) : null;
    start.benchCpu = process.cpuUsage();
  };
  // Peak RSS from /proc at most every 50 ms: the single generator's ticker runs every 5 ms and need not read two files each time.
  let lastPeakAt = 0;
  const samplePeak = () => {
    if (!serverPid) return;
    const now = performance.now();
    if (now - lastPeakAt < 50) return;
    lastPeakAt = now;
    const st = sampleProc(serverPid);
    if (st) peakRssMb = Math.max(peakRssMb, st.hwmMb);
  };
  let raw: LoadRaw;
  if (loadProcesses === 1) {
    raw = await driveLoad(url, plans, hopMs, 0, sessions, async () => startMeasuring(), samplePeak);
  } else {
    startMeasuring();
    raw = await runChildren(url, samplePeak);
  }
  // The children's own CPU over the load; in one process, driveLoad's figure is this process's.
  const childCpuS = loadProcesses > 1 ? raw.cpuS : 0;
  const wallS = raw.wallS;
  const cpu1 = serverPid ? sampleProc(serverPid) : null;
  const topo = server && topoStart ? topologyReport(server, topoStart, snapshot(server), wallS, sessions) : null;
  for (const [k, n] of (topo?.perNode ?? []).entries()) {
    const seen = topo!.topology.processesSeen[k];
    if (args.processes !== undefined && seen < Number(args.processes)) {
      console.warn(`warning: ${n.nodeId} ran ${seen} server process(es) where --processes ${args.processes} was asked (a server without server.processes?)`);
    }
  }
  const threads1 = serverPid ? sampleThreads(serverPid) : null;
  const benchCpu = process.cpuUsage(start.benchCpu);
  const { cpu: cpu0, threads: threads0 } = start;
  const metricsAfterByNode = await scrape();
  const metricsAfter = metricsAfterByNode.join('\n');
  const opened = metricsAfterByNode.map((t, k) => counterSum(t, 'emostream_sessions_total') - counterSum(metricsBeforeByNode[k], 'emostream_sessions_total'));
  if (opened.length > 1 && Math.max(...opened) - Math.min(...opened) > Math.max(1, sessions / 10)) {
    console.warn(`warning: the balancer spread the sessions unevenly over the nodes (${opened.join(' / ')}); a node marked down during the run?`);
  }
  if (server) await server.stop();

  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const pct = (xs: number[]) => {
    const s = sorted(xs);
    const r = (p: number) => { const v = percentile(s, p); return v === null ? null : Number(v.toFixed(2)); };
    return { p50: r(50), p95: r(95), p99: r(99), max: s.length ? Number(s[s.length - 1].toFixed(2)) : null };
  };
  /** p95 and max of the e2e latencies observed in each second of the run. */
  const perSecond = (lat: number[], atS: number[]) => {
    const buckets: number[][] = [];
    lat.forEach((l, i) => { (buckets[Math.floor(atS[i])] ??= []).push(l); });
    return [...buckets.entries()].filter(([, b]) => b !== undefined).map(([sec, b]) => ({ s: sec, n: b.length, p95: Number((percentile(sorted(b), 95) ?? 0).toFixed(1)), max: Number(Math.max(...b).toFixed(1)) }));
  };
  const { e2e, e2eAtS } = raw;
  const resultCount = raw.resultsPerSession.reduce((a, b) => a + b, 0);
  const dropped = raw.droppedPerSession.reduce((a, b) => a + b, 0);
  const batchAfter = sumHistograms(metricsAfterByNode.map((t) => parseHistogram(t, 'emostream_batch_size', 'model')));
  const batchBefore = sumHistograms(metricsBeforeByNode.map((t) => parseHistogram(t, 'emostream_batch_size', 'model')));
  const batchHistogram = Object.fromEntries(Object.keys(batchAfter).map((m) => [m, bucketDelta(batchAfter[m], batchBefore[m])]));
  let commit = 'unknown';
  try { commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  const report = {
    ...(args.smoke ? { kind: 'SMOKE RUN: tiny sizes on a busy shared machine; proves the mode runs, not a measurement' } : {}),
    sessions, seconds, transport, auth: args.auth,
    batching: args.batching, provider: args.provider, workers: Number(args.workers), featureWorkers: models.featureWorkers ?? 0,
    maxDelayMs: args['max-delay-ms'] !== undefined ? Number(args['max-delay-ms']) : 'default',
    loadProcesses,
    eventLoops: args['event-loops'] !== undefined ? Number(args['event-loops']) : 1,
    processes: args.processes !== undefined ? Number(args.processes) : 'default',
    nodes: Number(args.nodes),
    warmupS,
    latencyMs: pct(e2e.filter((_, i) => e2eAtS[i] >= warmupS)),
    warmupLatencyMs: pct(e2e.filter((_, i) => e2eAtS[i] < warmupS)),
    latencyWholeRunMs: pct(e2e),
    latencyPerSecondMs: perSecond(e2e, e2eAtS),
    serverMs: pct(raw.stages.total),
    stagesMs: { queue: pct(raw.stages.queue), speech: pct(raw.stages.speech), face: pct(raw.stages.face), fuse: pct(raw.stages.fuse) },
    results: resultCount,
    resultsPerSecond: Number((resultCount / wallS).toFixed(2)),
    expectedResultsPerSecond: Number(((sessions * 1000) / hopMs).toFixed(2)),
    droppedWindows: dropped,
    droppedWindowsMetric: counterSum(metricsAfter, 'emostream_dropped_windows_total') - counterSum(metricsBefore, 'emostream_dropped_windows_total'),
    errors: raw.errors,
    // Every process of every node (one node of one process: that process, as before --processes and --nodes).
    cpuPercent: topo ? topo.serverCpuPercent : cpu0 && cpu1 ? Number((((cpu1.cpuS - cpu0.cpuS) / wallS) * 100).toFixed(1)) : null,
    // Percent of one core: the event-loop (main) thread, and the busiest other thread (normally the ONNX worker).
    serverThreadCpuPercent: serverPid && threads0 && threads1 ? threadCpuPercent(serverPid, threads0, threads1, wallS) : null,
    // The first node's main process (sampled through the run); every process's own peak is under perNode.
    peakRssMb: peakRssMb ? Number(peakRssMb.toFixed(1)) : null,
    // All load generators together (the parent's own share is negligible when it only coordinates children).
    loadGeneratorCpuPercent: Number(((((benchCpu.user + benchCpu.system) / 1e6 + childCpuS) / wallS) * 100).toFixed(1)),
    maxSendLagMs: Number(raw.lagMaxMs.toFixed(1)),
    // Server event-loop delay (prom-client's monitorEventLoopDelay over the whole run): tells CPU starvation or
    // blocking on the server's main thread apart from slow models.
    serverEventLoopLagMs: {
      p50: Number((gauge(metricsAfter, 'emostream_nodejs_eventloop_lag_p50_seconds') * 1000).toFixed(2)),
      p99: Number((gauge(metricsAfter, 'emostream_nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(2)),
      max: Number((gauge(metricsAfter, 'emostream_nodejs_eventloop_lag_max_seconds') * 1000).toFixed(2)),
    },
    // Main-thread garbage collection over the run (prom-client's nodejs_gc_duration_seconds), percent of wall time.
    serverGcPercent: Number((((counterSum(metricsAfter, 'emostream_nodejs_gc_duration_seconds_sum') - counterSum(metricsBefore, 'emostream_nodejs_gc_duration_seconds_sum')) / wallS) * 100).toFixed(2)),
    batchSizeHistogram: batchHistogram,
    ...(topo ?? {}),
    // Sessions each node opened during the run (emostream_sessions_total): how the balancer spread them.
    sessionsPerNode: opened,
    ...(healthAtStart && healthAtStart.length > 1 ? { healthAtStart } : {}),
    wallSeconds: Number(wallS.toFixed(2)),
    models: models.models.map((m) => ({ name: m.name, available: m.available, provider: m.provider ?? null, error: m.error ?? null })),
    windowMs: models.windowMs, hopMs,
    storage: redact(args.storage!),
    chunkMs, auFps,
    clips: pickClips(sessions, Number(args.seed)).map((c) => clipId(c.path)),
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGb: Number((totalmem() / 2 ** 30).toFixed(1)),
      platform: `${platform()} ${release()} ${arch()}`, node: process.version, loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
    },
    commit, date: new Date().toISOString(),
  };
  const shape = `${Number(args.nodes) > 1 ? `-${args.nodes}nodes` : ''}${args.processes !== undefined ? `-${args.processes}proc` : ''}`;
  const out = args.out ?? join('bench', 'results', `server-${transport}-${sessions}s-${args.batching === 'on' ? 'batch' : 'nobatch'}-${args.provider}${args.auth === 'on' ? '-auth' : ''}${shape}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  console.log(`${sessions} sessions x ${seconds}s${warmupS ? ` (first ${warmupS} s not in the percentiles)` : ''} over ${transport} (batching ${args.batching}, auth ${args.auth}, ${args.provider}${loadProcesses > 1 ? `, ${loadProcesses} load processes` : ''}): ` +
    `e2e p50/p95/p99 ${f(report.latencyMs.p50)}/${f(report.latencyMs.p95)}/${f(report.latencyMs.p99)} ms, server p95 ${f(report.serverMs.p95)} ms, ` +
    `${report.resultsPerSecond} results/s (expected ${report.expectedResultsPerSecond}), dropped ${dropped}, server CPU ${f(report.cpuPercent)} % (main thread ${f(report.serverThreadCpuPercent?.main ?? null)} %), peak RSS ${f(report.peakRssMb)} MB` +
    `${topo ? `; ${args.nodes} node(s) x ${topo.topology.processesSeen.join('/')} server process(es)${topo.redis ? `, redis ${f(topo.redis.cpuPercent)} %` : ''}${topo.balancer ? `, haproxy ${f(topo.balancer.cpuPercent)} %` : ''}, ${topo.cpuPercentPerSession.cluster} % per session` : ''} -> ${out}`);
}

(childOut ? childMain(childOut) : main()).catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  await stopAll(3000);
  process.exit(1);
});
