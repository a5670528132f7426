/**
 * A video+audio session end to end through the real server: createEmoServer on an ephemeral port (uWS, the model
 * worker pool, the face worker), N clients (clients/node) each streaming CREMA-D clips -- 16 kHz audio in 20 ms chunks
 * and the video track as JPEG frames at 10 fps on the same clock -- in real time. Reports the end-to-end result latency
 * (from sending a window's last frame to its result arriving), the server's own per-stage latency, faces seen, dropped
 * windows and skipped frames. Needs ../shared/faces/cremad. Writes bench/results/face-pipeline-e2e-<N>.json.
 * Run: node --import tsx bench/face-pipeline-e2e.ts [sessions=4] [loops=1]
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { EmoStreamClient } from '../clients/node/client.js';
import { decodePcm16k, STREAM_SAMPLE_RATE } from '../clients/node/media.js';
import { createEmoServer } from '../src/server/app.js';
import { extractJpegFrames, type JpegFrame } from '../src/training/face-eval/clip-frames.js';
import type { EmotionResult } from '../src/protocol/v1/messages.js';

const sessions = Number(process.argv[2] ?? 4);
const loops = Number(process.argv[3] ?? 1);
const dir = new URL('../../shared/faces/cremad/', import.meta.url).pathname;
if (!existsSync(dir)) {
  console.error('needs ../shared/faces/cremad');
  process.exit(2);
}
const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const stats = (xs: number[]) => ({ n: xs.length, meanMs: +(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(1), p50Ms: +q(xs, 0.5).toFixed(1), p95Ms: +q(xs, 0.95).toFixed(1), p99Ms: +q(xs, 0.99).toFixed(1) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Media: the six CREMA-D clips of actor 1001, audio and video, concatenated on one clock.
const emotions = ['NEU', 'HAP', 'ANG', 'SAD', 'FEA', 'DIS'];
const chunkSamples = (STREAM_SAMPLE_RATE * 20) / 1000;
const media: { audio: Int16Array[]; video: JpegFrame[] }[] = [];
for (const e of emotions) {
  const audio: Int16Array[] = [];
  for await (const c of decodePcm16k(`${dir}audio-16k/1001_DFA_${e}_XX.wav`, chunkSamples)) audio.push(c);
  media.push({ audio, video: await extractJpegFrames(`${dir}1001_DFA_${e}_XX.flv`, 10) });
}

const server = await createEmoServer({ overrides: { server: { port: 0, host: '127.0.0.1' }, log: { level: 'warn' } } as never });
const port = await server.listen();
const modelStatus = server.models.status().map((s) => ({ name: s.name, role: s.details?.role, available: s.available, error: s.error }));

async function session(i: number) {
  const client = await EmoStreamClient.connect({ url: `ws://127.0.0.1:${port}`, client: `bench-${i}` });
  const results: EmotionResult[] = [];
  const e2e: number[] = [];
  const e2eSteady: number[] = [];
  const reader = (async () => {
    for await (const r of client.results()) {
      results.push(r);
      const l = client.latencyMs(r);
      if (l !== null && !r.final) {
        e2e.push(l);
        // After the first 3 s of media: start-up (first detections of every session at once) excluded.
        if (r.windowEndUs > 3_000_000) e2eSteady.push(l);
      }
    }
  })();
  await sleep(i * 37); // sessions out of phase
  const t0 = performance.now();
  let clockUs = 0;
  let videoSent = 0;
  for (let l = 0; l < loops; l++) {
    for (let k = 0; k < media.length; k++) {
      const m = media[(k + i) % media.length];
      const clipStartUs = clockUs;
      let vi = 0;
      let samples = 0;
      for (const chunk of m.audio) {
        const ptsUs = clipStartUs + Math.round((samples * 1e6) / STREAM_SAMPLE_RATE);
        const chunkUs = Math.round((chunk.length * 1e6) / STREAM_SAMPLE_RATE);
        const wait = t0 + (ptsUs + chunkUs) / 1000 - performance.now();
        if (wait > 0) await sleep(wait);
        while (vi < m.video.length && clipStartUs + m.video[vi].ptsUs < ptsUs + chunkUs) {
          const f = m.video[vi++];
          client.sendVideo('jpeg', f.width, f.height, f.jpeg, clipStartUs + f.ptsUs);
          videoSent++;
        }
        client.sendAudio(chunk, { sampleRate: STREAM_SAMPLE_RATE, channels: 1, ptsUs });
        samples += chunk.length;
      }
      clockUs = clipStartUs + Math.round((samples * 1e6) / STREAM_SAMPLE_RATE);
    }
  }
  await client.end();
  await reader;
  return { results, e2e, e2eSteady, videoSent };
}

const cpu0 = process.cpuUsage();
const wall0 = performance.now();
const out = await Promise.all(Array.from({ length: sessions }, (_, i) => session(i)));
const wallMs = performance.now() - wall0;
const cpu = process.cpuUsage(cpu0);
await server.close();
const all = out.flatMap((o) => o.results.filter((r) => !r.final));
const result = {
  bench: 'face-pipeline-e2e',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1), platform: platform(), arch: arch(), node: process.version, loadavg1m: loadavg()[0] },
  setup: { sessions, loops, media: 'CREMA-D 1001, 6 clips: 16 kHz audio in 20 ms chunks + JPEG 480x360 at 10 fps, real time', transport: server.transportName },
  models: modelStatus,
  results: all.length,
  videoFramesSent: out.reduce((n, o) => n + o.videoSent, 0),
  resultsWithFace: all.filter((r) => (r.faces?.count ?? 0) > 0).length,
  resultsWithFacePosterior: all.filter((r) => r.face !== null).length,
  resultsWithExpression: all.filter((r) => r.expression !== null).length,
  resultsWithSpeech: all.filter((r) => r.speech !== null).length,
  droppedWindows: Math.max(0, ...out.map((o) => o.results.at(-1)?.droppedWindows ?? 0)),
  endToEndLatency: stats(out.flatMap((o) => o.e2e)),
  endToEndLatencyAfter3s: stats(out.flatMap((o) => o.e2eSteady)),
  serverTotalMs: stats(all.map((r) => r.latency.totalMs)),
  serverFaceMs: stats(all.map((r) => r.latency.faceMs).filter((v): v is number => v !== null)),
  serverSpeechMs: stats(all.map((r) => r.latency.speechMs).filter((v): v is number => v !== null)),
  target: { p95EndToEndMs: 150 },
  processCpuCores: +((cpu.user + cpu.system) / 1000 / wallMs).toFixed(2),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/face-pipeline-e2e-${sessions}.json`, import.meta.url), JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result, null, 1));
process.exit(0);
