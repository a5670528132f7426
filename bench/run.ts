/**
 * Load benchmark: N concurrent clients replay real RAVDESS clips (../shared) at real-time pace against a server in a
 * separate process, with AU frames at 30 fps built from each clip's OpenFace clip-mean AUs (no per-frame AUs exist
 * for RAVDESS here). Reports client-measured end-to-end latency, server-side latency per stage, results per second,
 * dropped windows, server CPU and peak RSS, the batch-size histogram, and writes JSON with the machine's details.
 *
 *   npm run bench -- --sessions 64 --seconds 30 --transport uws --batching on --provider cpu [--cpu-prof DIR]
 */
import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release, arch, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EmoStreamClient, type EmotionResult } from '../clients/node/index.js';
import { clipId, readAuCsv } from '../clients/node/openface-csv.js';
import { percentile } from '../clients/node/timeline.js';
import { hasShared, listSpeechClips, RAVDESS_DIR } from '../src/training/ravdess.js';
import { readWavS16 } from './wav.js';
import { bucketDelta, counterSum, parseHistogram, sampleProc, sampleThreads, threadCpuPercent } from './proc-stats.js';

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
    out: { type: 'string' },
    url: { type: 'string' },
    seed: { type: 'string', default: '1' },
    /** Folder for V8 CPU profiles of the server process (main thread and each worker thread write one). */
    'cpu-prof': { type: 'string' },
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
if (!['uws', 'ws'].includes(transport) || !['on', 'off'].includes(args.batching!)) {
  console.error('--transport uws|ws, --batching on|off');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic clip choice per session (a fixed LCG), so runs are comparable. */
function pickClips(n: number, seed: number) {
  const clips = listSpeechClips();
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return clips[s % clips.length];
  });
}

async function startServer(port: number): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  const log: string[] = [];
  const profArgs = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  const child = spawn(process.execPath, [...profArgs, 'bin/emostream.mjs', 'serve', '--port', String(port), '--host', '127.0.0.1', '--transport', transport, '--provider', args.provider!], {
    env: {
      ...process.env, EMOSTREAM_LOG_LEVEL: 'warn', EMOSTREAM_BATCHING: args.batching === 'on' ? 'true' : 'false',
      EMOSTREAM_MAX_SESSIONS: String(Math.max(512, sessions * 2)), EMOSTREAM_VIDEO: 'false', EMOSTREAM_WORKERS: args.workers,
      ...(args['feature-workers'] !== undefined ? { EMOSTREAM_FEATURE_WORKERS: args['feature-workers'] } : {}),
      ...(args['max-delay-ms'] !== undefined ? { EMOSTREAM_MAX_DELAY_MS: args['max-delay-ms'] } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${log.join('')}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url: `ws://127.0.0.1:${port}`, log };
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  child.kill('SIGTERM');
  throw new Error('server did not become healthy in 60 s');
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

async function main() {
  const port = Number(args.port);
  const server = args.url ? null : await startServer(port);
  const url = args.url ?? server!.url;
  const httpUrl = url.replace('ws://', 'http://');
  const allClips = listSpeechClips();
  const auTable = join(RAVDESS_DIR, 'openface', 'clip-mean-aus.csv');
  const firsts = pickClips(sessions, Number(args.seed)).map((c) => allClips.findIndex((x) => x.path === c.path));
  const plans = firsts.map((f) => planSession(f, allClips, auTable));
  const models = (await (await fetch(`${httpUrl}/v1/models`)).json()) as { models: { name: string; available: boolean; provider?: string; error?: string }[]; hopMs: number; windowMs: number; featureWorkers?: number };
  const metricsBefore = await (await fetch(`${httpUrl}/metrics`)).text();
  for (const m of models.models.filter((x) => !x.available && !/disabled in configuration/.test(x.error ?? ''))) {
    console.warn(`warning: model ${m.name} unavailable (${m.error}); its posteriors will be null in this run`);
  }

  const clients = await Promise.all(plans.map(() => EmoStreamClient.connect({ url, client: 'bench' })));
  let t0 = performance.now();
  const results: EmotionResult[][] = clients.map(() => []);
  /** Results that arrived after the warm-up (what the latency percentiles describe). */
  const steady: EmotionResult[] = [];
  /** Every e2e latency, in arrival order. */
  const e2e: number[] = [];
  /** When each e2e latency was observed (s since the load started): a tail from stalls looks different from a slow drift. */
  const e2eAtS: number[] = [];
  const readers = clients.map((c, i) => (async () => {
    for await (const r of c.results()) {
      const lat = c.latencyMs(r);
      const atS = (performance.now() - t0) / 1000;
      results[i].push(r);
      if (atS >= warmupS) steady.push(r);
      if (lat !== null) {
        e2e.push(lat);
        e2eAtS.push(atS);
      }
    }
  })());

  const chunk = Math.round((16000 * chunkMs) / 1000);
  const hopMs = models.hopMs;
  // Sessions start spread over one hop, as independent users would.
  const startOffsetMs = plans.map((_, i) => (i * hopMs) / sessions);
  const sent = plans.map(() => ({ samples: 0, au: 0, done: false }));
  const serverPid = server?.child.pid;
  const cpu0 = serverPid ? sampleProc(serverPid) : null;
  const threads0 = serverPid ? sampleThreads(serverPid) : null;
  const benchCpu0 = process.cpuUsage();
  let peakRssMb = 0;
  t0 = performance.now();
  let lagMaxMs = 0;
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
          lagMaxMs = Math.max(lagMaxMs, mediaMs - end / 16);
          s.samples = end;
        }
        if (s.samples >= p.audio.length) {
          s.done = true;
          void clients[i].end();
        }
      }
      if (serverPid) {
        const st = sampleProc(serverPid);
        if (st) peakRssMb = Math.max(peakRssMb, st.hwmMb);
      }
      if (allDone) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  await Promise.all(readers);
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = serverPid ? sampleProc(serverPid) : null;
  const threads1 = serverPid ? sampleThreads(serverPid) : null;
  const benchCpu = process.cpuUsage(benchCpu0);
  const metricsAfter = await (await fetch(`${httpUrl}/metrics`)).text();
  if (server) {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }

  const all = results.flat();
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
  const stage = (get: (r: EmotionResult) => number | null | undefined) => pct(steady.map(get).filter((x): x is number => typeof x === 'number'));
  const dropped = results.reduce((s, rs) => s + (rs.length ? rs[rs.length - 1].droppedWindows : 0), 0);
  const batchAfter = parseHistogram(metricsAfter, 'emostream_batch_size', 'model');
  const batchBefore = parseHistogram(metricsBefore, 'emostream_batch_size', 'model');
  const batchHistogram = Object.fromEntries(Object.keys(batchAfter).map((m) => [m, bucketDelta(batchAfter[m], batchBefore[m])]));
  let commit = 'unknown';
  try { commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  const report = {
    sessions, seconds, transport,
    batching: args.batching, provider: args.provider, workers: Number(args.workers), featureWorkers: models.featureWorkers ?? 0,
    maxDelayMs: args['max-delay-ms'] !== undefined ? Number(args['max-delay-ms']) : 'default',
    warmupS,
    latencyMs: pct(e2e.filter((_, i) => e2eAtS[i] >= warmupS)),
    warmupLatencyMs: pct(e2e.filter((_, i) => e2eAtS[i] < warmupS)),
    latencyWholeRunMs: pct(e2e),
    latencyPerSecondMs: perSecond(e2e, e2eAtS),
    serverMs: stage((r) => r.latency.totalMs),
    stagesMs: { queue: stage((r) => r.latency.queueMs), speech: stage((r) => r.latency.speechMs), face: stage((r) => r.latency.faceMs), fuse: stage((r) => r.latency.fuseMs) },
    results: all.length,
    resultsPerSecond: Number((all.length / wallS).toFixed(2)),
    expectedResultsPerSecond: Number(((sessions * 1000) / hopMs).toFixed(2)),
    droppedWindows: dropped,
    droppedWindowsMetric: counterSum(metricsAfter, 'emostream_dropped_windows_total') - counterSum(metricsBefore, 'emostream_dropped_windows_total'),
    errors: clients.reduce((s, c) => s + c.errors.length, 0),
    cpuPercent: cpu0 && cpu1 ? Number((((cpu1.cpuS - cpu0.cpuS) / wallS) * 100).toFixed(1)) : null,
    // Percent of one core: the event-loop (main) thread, and the busiest other thread (normally the ONNX worker).
    serverThreadCpuPercent: serverPid && threads0 && threads1 ? threadCpuPercent(serverPid, threads0, threads1, wallS) : null,
    peakRssMb: peakRssMb ? Number(peakRssMb.toFixed(1)) : null,
    loadGeneratorCpuPercent: Number((((benchCpu.user + benchCpu.system) / 1e6 / wallS) * 100).toFixed(1)),
    maxSendLagMs: Number(lagMaxMs.toFixed(1)),
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
    wallSeconds: Number(wallS.toFixed(2)),
    models: models.models.map((m) => ({ name: m.name, available: m.available, provider: m.provider ?? null, error: m.error ?? null })),
    windowMs: models.windowMs, hopMs,
    chunkMs, auFps,
    clips: plans.map((p) => p.clips[0]),
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGb: Number((totalmem() / 2 ** 30).toFixed(1)),
      platform: `${platform()} ${release()} ${arch()}`, node: process.version, loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
    },
    commit, date: new Date().toISOString(),
  };
  const out = args.out ?? join('bench', 'results', `server-${transport}-${sessions}s-${args.batching === 'on' ? 'batch' : 'nobatch'}-${args.provider}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  console.log(`${sessions} sessions x ${seconds}s${warmupS ? ` (first ${warmupS} s not in the percentiles)` : ''} over ${transport} (batching ${args.batching}, ${args.provider}): ` +
    `e2e p50/p95/p99 ${f(report.latencyMs.p50)}/${f(report.latencyMs.p95)}/${f(report.latencyMs.p99)} ms, server p95 ${f(report.serverMs.p95)} ms, ` +
    `${report.resultsPerSecond} results/s (expected ${report.expectedResultsPerSecond}), dropped ${dropped}, server CPU ${f(report.cpuPercent)} % (main thread ${f(report.serverThreadCpuPercent?.main ?? null)} %), peak RSS ${f(report.peakRssMb)} MB -> ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
