/**
 * WebRTC sessions per core: N Node WHIP clients (werift: ICE, DTLS-SRTP, Opus, SCTP, RTCP, exactly what a browser
 * sends) publish a RAVDESS clip (../shared; a synthetic tone otherwise) at real-time pace, optionally with VP8 video
 * (a MEAD face clip, ffmpeg's test pattern otherwise), to a server in a separate process. The server's CPU (its own
 * process, worker threads included, plus its ffmpeg decoder children) over a steady-state window gives cores per
 * session; also results per second, end-to-end latency from the capture time in each result, dropped windows and RSS.
 *
 *   node --import tsx bench/webrtc-sessions.ts --sessions 8 --seconds 20 --video none
 *   node --import tsx bench/webrtc-sessions.ts --sessions 2 --seconds 20 --video vp8
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readWav } from '../src/features/wav.js';
import { hasShared, SHARED_DIR } from '../src/training/ravdess.js';
import { encodeVideoFixture, type CodedVideo } from '../clients/node/video-fixture.js';
import { to48k, WhipClient } from '../clients/node/whip-client.js';
import { sampleProc } from './proc-stats.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '4' },
    video: { type: 'string', default: 'none' },
    port: { type: 'string', default: '18190' },
    out: { type: 'string' },
  },
});
const sessions = Number(args.sessions);
const seconds = Number(args.seconds);
const warmupS = Number(args.warmup);
const videoCodec = args.video === 'vp8' || args.video === 'h264' ? args.video : null;
const port = Number(args.port);

function percentile(v: number[], q: number): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
}

/** CPU seconds of a process and its live children (the ffmpeg decoders). */
function treeCpuS(pid: number): { server: number; children: number; rssMb: number } {
  const own = sampleProc(pid);
  let children = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) children += (Number(f[11]) + Number(f[12])) / 100;
    } catch { /* exited */ }
  }
  return { server: own?.cpuS ?? 0, children, rssMb: own?.rssMb ?? 0 };
}

async function startServer(): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  // uWS binds with SO_REUSEPORT: a server left on the port would silently take part of the load.
  const stale = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true, () => false);
  if (stale) throw new Error(`something already answers on port ${port}; stop it or pass --port`);
  const log: string[] = [];
  const child = spawn(process.execPath, ['bin/emostream.mjs', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, EMOSTREAM_LOG_LEVEL: 'warn', EMOSTREAM_MAX_SESSIONS: '512' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${log.join('')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { child, url: `http://127.0.0.1:${port}`, log };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not come up');
}

async function main(): Promise<void> {
  const clip = join(SHARED_DIR, 'ravdess', 'speech-16k', 'Actor_01', '03-01-05-02-01-01-01.wav');
  let audio48k: Float32Array;
  let audioSource: string;
  if (hasShared() && existsSync(clip)) {
    const w = readWav(clip);
    audio48k = await to48k(w.samples, w.sampleRate);
    audioSource = 'ravdess:03-01-05-02-01-01-01.wav';
  } else {
    audio48k = new Float32Array(48000 * 3).map((_, i) => 0.2 * Math.sin((2 * Math.PI * 150 * i) / 48000));
    audioSource = 'synthetic:tone';
  }
  let video: CodedVideo | null = null;
  let videoSource: string | null = null;
  if (videoCodec) {
    const mead = join(SHARED_DIR, 'faces', 'mead', 'W009_front_angry_level3_001.mp4');
    video = await encodeVideoFixture(videoCodec, existsSync(mead) ? mead : null, 4, 15, '320x240');
    videoSource = existsSync(mead) ? 'mead:W009_front_angry_level3_001.mp4' : 'ffmpeg:testsrc2';
  }

  const server = await startServer();
  // Never leave the server behind, whatever fails below.
  const killServer = () => { if (server.child.exitCode === null) server.child.kill('SIGKILL'); };
  process.once('exit', killServer);
  const models = await (await fetch(`${server.url}/v1/models`)).json() as unknown;
  const clients: WhipClient[] = [];
  const e2e: number[] = [];
  let results = 0;
  let dropped = 0;
  let measuring = false;
  const total = warmupS + seconds;
  // Send time of every 20 ms Opus frame, per client: the session clock starts at the first audio packet (audio is sent
  // first), so a result's windowEndUs names the frame holding its last sample. (werift's own RTCP sender reports drop
  // the NTP fraction, so the server's capture field is not usable with werift senders; browsers send correct ones.)
  const sentAt: Float64Array[] = [];
  for (let i = 0; i < sessions; i++) {
    const c = await WhipClient.connect({ url: `${server.url}/v1/whip`, video: videoCodec ?? undefined });
    const log = new Float64Array(Math.ceil(total * 50) + 100);
    sentAt.push(log);
    c.onMessage((m) => {
      if (m.type !== 'emotion' || !measuring) return;
      results++;
      dropped = Math.max(dropped, Number(m.droppedWindows ?? 0));
      const frame = Math.ceil((Number(m.windowEndUs) * 48) / 1000 / 960) - 1;
      if (frame >= 0 && frame < log.length && log[frame] > 0) e2e.push(Date.now() - log[frame]);
    });
    clients.push(c);
  }
  // Loop the clip for the whole run, each client offset so windows do not all fall due at once.
  const loops = Math.ceil((total * 48000) / audio48k.length) + 1;
  const long = new Float32Array(loops * audio48k.length);
  for (let k = 0; k < loops; k++) long.set(audio48k, k * audio48k.length);
  const streams = clients.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, (i * 500) / sessions));
    const pcm = long.subarray(0, total * 48000);
    const log = sentAt[i];
    await Promise.all([c.streamPcm(pcm, { onFrame: (at, endSample) => { log[Math.ceil(endSample / 960) - 1] = at; } }), video ? c.streamVideo(video, total) : Promise.resolve()]);
  });
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  measuring = true;
  const before = treeCpuS(server.child.pid!);
  const t0 = performance.now();
  let peakRss = before.rssMb;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, treeCpuS(server.child.pid!).rssMb); }, 1000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = treeCpuS(server.child.pid!);
  const wallS = (performance.now() - t0) / 1000;
  measuring = false;
  clearInterval(sampler);
  await Promise.all(streams);
  const stats = await Promise.all(clients.map(async (c) => {
    const s = c.messages.filter((m) => m.type === 'webrtc-stats').at(-1) as { audio?: { lost: number; missingAudioMs: number }; video?: { framesDelivered: number } } | undefined;
    await c.close();
    return s;
  }));
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));

  const serverCores = (after.server - before.server) / wallS;
  const ffmpegCores = (after.children - before.children) / wallS;
  const coresPerSession = (serverCores + ffmpegCores) / sessions;
  const report = {
    bench: 'webrtc-sessions',
    date: new Date().toISOString(),
    command: `node --import tsx bench/webrtc-sessions.ts --sessions ${sessions} --seconds ${seconds} --video ${videoCodec ?? 'none'}`,
    sessions,
    media: { audio: audioSource, video: videoSource, videoCodec, videoFps: video?.fps ?? null, videoSize: videoCodec ? '320x240' : null },
    measuredS: Math.round(wallS * 10) / 10,
    serverCores: Math.round(serverCores * 1000) / 1000,
    ffmpegCores: Math.round(ffmpegCores * 1000) / 1000,
    coresPerSession: Math.round(coresPerSession * 1000) / 1000,
    sessionsPerCore: Math.round((1 / coresPerSession) * 10) / 10,
    resultsPerS: Math.round((results / wallS) * 10) / 10,
    e2eMs: { basis: 'client send time of the Opus frame holding the window\'s last sample -> result received by the client', n: e2e.length, p50: percentile(e2e, 0.5), p95: percentile(e2e, 0.95), p99: percentile(e2e, 0.99) },
    droppedWindowsMax: dropped,
    audioPacketsLost: stats.reduce((a, s) => a + (s?.audio?.lost ?? 0), 0),
    missingAudioMs: stats.reduce((a, s) => a + (s?.audio?.missingAudioMs ?? 0), 0),
    videoFramesDelivered: stats.reduce((a, s) => a + (s?.video?.framesDelivered ?? 0), 0),
    serverPeakRssMb: Math.round(peakRss),
    models,
    note: 'The load generator (werift clients) runs on the same machine; only the server process tree is counted. Shared 2-core machine: other jobs may run.',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), platform: platform(), release: release(), arch: arch(), node: process.version, loadavg: loadavg() },
  };
  const out = args.out ?? `bench/results/webrtc-sessions-${videoCodec ? `av-${videoCodec}` : 'audio'}-${sessions}.json`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(JSON.stringify({ ...report, models: undefined, machine: undefined }, null, 2));
  console.log(`wrote ${out}`);
}

await main();
