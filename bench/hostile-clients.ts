/**
 * Hostile clients against the real server (a child process, shipped models), each beside one well-behaved session
 * streaming in real time: timestamp jumps (AU 0 then 9e18 or 1e12, audio after AU, I420 video), out-of-range values,
 * media at 10x real time, oversize frames, hello-only sessions. Per case: the codes and close code the hostile client
 * got, the server's RSS before and after; for the whole run: the well-behaved session's results and the longest gap
 * between two of them (an event loop frozen by a client would show here). Writes bench/results/hostile-clients.json.
 * Run: node --import tsx bench/hostile-clients.ts [--transport uws|ws] [--port 18230] [--out FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { EmoStreamClient } from '../clients/node/index.js';
import { replay } from '../clients/node/replay.js';
import { encodeAudioFrame, encodeAuFrame, encodeVideoFrame, rawVideoBytes } from '../src/protocol/v1/frames.js';
import { SUBPROTOCOL, type EmotionResult, type ServerMessage } from '../src/protocol/v1/messages.js';
import { sampleProc } from './proc-stats.js';

const { values: args } = parseArgs({
  options: {
    transport: { type: 'string', default: 'uws' },
    port: { type: 'string', default: '18230' },
    out: { type: 'string' },
  },
});
const transport = args.transport === 'ws' ? 'ws' : 'uws';
const port = Number(args.port);
const out = args.out ?? `bench/results/hostile-clients-${transport}.json`;
const IDLE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const maxGap = (ts: number[]) => ts.slice(1).reduce((m, t, i) => Math.max(m, t - ts[i]), 0);

async function startServer(): Promise<ChildProcess> {
  if (await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true, () => false)) throw new Error(`something already answers on port ${port}`);
  const child = spawn(process.execPath, ['bin/emostream.mjs', 'serve', '--port', String(port), '--host', '127.0.0.1', '--transport', transport], {
    env: { ...process.env, EMOSTREAM_LOG_LEVEL: 'warn', EMOSTREAM_IDLE_SESSION_TIMEOUT_MS: String(IDLE_MS) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    await sleep(100);
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return child;
  }
  child.kill();
  throw new Error('server did not start within 60 s');
}

interface Hostile { ws: WebSocket; messages: ServerMessage[]; closed: Promise<number> }

async function hostile(url: string): Promise<Hostile> {
  const ws = new WebSocket(`${url}/v1/stream`, [SUBPROTOCOL]);
  const messages: ServerMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
  ws.on('error', () => undefined);
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ type: 'hello', protocol: '1.0', client: 'hostile' }));
  for (let i = 0; i < 100 && !messages.some((m) => m.type === 'welcome'); i++) await sleep(20);
  return { ws, messages, closed };
}

const withPts = (frame: Uint8Array, pts: bigint) => {
  const f = frame.slice();
  new DataView(f.buffer).setBigInt64(8, pts, true);
  return f;
};
const AUS = new Array(35).fill(0.5);
const tone = (n: number, at: number) => Int16Array.from({ length: n }, (_, i) => Math.round(6000 * Math.sin((at + i) / 7)));

/** Each case sends its frames, waits `settleMs`, ends or drops the session; returns what the client saw. */
const CASES: { name: string; settleMs?: number; run: (h: Hostile) => Promise<void> | void }[] = [
  { name: 'au 0 then 9e18', run: (h) => { h.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, AUS)); h.ws.send(withPts(encodeAuFrame({ seq: 1, ptsUs: 0 }, AUS), 9_000_000_000_000_000_000n)); } },
  { name: 'au 0 then 2^63 - 1', run: (h) => { h.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, AUS)); h.ws.send(withPts(encodeAuFrame({ seq: 1, ptsUs: 0 }, AUS), (1n << 63n) - 1n)); } },
  { name: 'au 0 then 1e12', run: (h) => { h.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, AUS)); h.ws.send(encodeAuFrame({ seq: 1, ptsUs: 1e12 }, AUS)); } },
  { name: 'audio at 1e12 after au at 0', run: (h) => { h.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, AUS)); h.ws.send(encodeAudioFrame({ seq: 1, ptsUs: 1e12 }, tone(320, 0), 16000, 1)); } },
  {
    name: 'i420 at 0 then 1e12',
    run: (h) => {
      const px = new Uint8Array(rawVideoBytes('i420', 64, 48)).fill(128);
      h.ws.send(encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'i420', 64, 48, px));
      h.ws.send(encodeVideoFrame({ seq: 1, ptsUs: 1e12 }, 'i420', 64, 48, px));
    },
  },
  { name: 'au 1e6', run: (h) => { h.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, new Array(35).fill(1e6))); } },
  { name: 'au 3.4e38', run: (h) => { h.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, new Array(35).fill(3.4e38))); } },
  { name: 'f32 audio ±1e30', run: (h) => { h.ws.send(encodeAudioFrame({ seq: 0, ptsUs: 0 }, Float32Array.from({ length: 320 }, (_, i) => (i % 2 ? 1e30 : -1e30)), 16000, 1)); } },
  {
    name: '60 s of audio at once (rate limit)',
    run: (h) => { for (let k = 0; k < 3000; k++) h.ws.send(encodeAudioFrame({ seq: k, ptsUs: k * 20_000 }, tone(320, k * 320), 16000, 1)); },
    settleMs: 2000,
  },
  { name: 'frame of 2 x maxFrameBytes + 1', run: (h) => { h.ws.send(new Uint8Array(2 * 4 * 1024 * 1024 + 1).fill(1)); } },
  { name: 'hello only', run: () => undefined, settleMs: IDLE_MS + 1500 },
];

const child = await startServer();
const url = `ws://127.0.0.1:${port}`;
const healthy = await EmoStreamClient.connect({ url });
const times: number[] = [];
const hopMs = healthy.welcome.hopMs;
let stop = false;
const started = performance.now();
// The well-behaved session: real-time audio until every case has run.
const healthyRun = replay(healthy, (function* () { for (let k = 0; !stop; k++) yield tone(320, k * 320); })(), {
  realtime: true,
  onResult: () => times.push(performance.now()),
});
const cases: Record<string, unknown>[] = [];
for (const c of CASES) {
  await sleep(1000);
  const caseStart = performance.now();
  const before = sampleProc(child.pid!);
  const h = await hostile(url);
  await c.run(h);
  await sleep(c.settleMs ?? 1000);
  if (h.ws.readyState === WebSocket.OPEN) h.ws.send(JSON.stringify({ type: 'end' }));
  const close = await Promise.race([h.closed, sleep(5000).then(() => null)]);
  if (close === null) h.ws.terminate();
  const after = sampleProc(child.pid!);
  const codes: Record<string, number> = {};
  for (const m of h.messages) if (m.type === 'error') codes[m.code] = (codes[m.code] ?? 0) + 1;
  cases.push({
    name: c.name, errors: codes, closeCode: close, results: h.messages.filter((m) => m.type === 'emotion').length,
    rssBeforeMb: before?.rssMb, rssAfterMb: after?.rssMb, rssPeakMb: after?.hwmMb,
    // The well-behaved session's longest wait for a result while this case ran (results are due every hop).
    wellBehavedMaxGapMs: Math.round(maxGap(times.filter((t) => t >= caseStart - hopMs))),
  });
  console.log(`${c.name}: ${JSON.stringify(codes)} close ${close}; RSS ${before?.rssMb.toFixed(0)} -> ${after?.rssMb.toFixed(0)} MiB; well-behaved max gap ${cases.at(-1)!.wellBehavedMaxGapMs} ms`);
}
stop = true;
const { results } = await healthyRun;
const wallS = (performance.now() - started) / 1000;

const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
const report = {
  bench: 'hostile-clients', transport, date: new Date().toISOString(), idleSessionTimeoutMs: IDLE_MS,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemGiB: Math.round(totalmem() / 2 ** 30), loadavg: loadavg(), node: process.version, platform: platform(), arch: arch(), release: release() },
  wellBehaved: {
    seconds: Math.round(wallS * 10) / 10, results: results.length, expectedAbout: Math.floor((wallS * 1000) / hopMs),
    maxGapBetweenResultsMs: Math.round(maxGap(times)), errors: healthy.errors.length,
    final: (results.at(-1) as EmotionResult | undefined)?.final ?? false,
  },
  cases,
  healthzAfter: health,
};
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report.wellBehaved));
console.log(`wrote ${out}`);
