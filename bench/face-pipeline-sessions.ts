/**
 * The face pipeline as the server runs it: loadVideoAnalyzer() (TensorFlow.js in a worker thread), N concurrent
 * sessions each sending real JPEG frames at 10 fps in real time (the server's analysis cap), measuring per frame the
 * latency from send to analysis result, the worker's own face-stage time (faceMs), and the main thread's event-loop
 * delay (what the server's other sessions would feel). Frames come from ../shared/faces clips (or the committed
 * fixtures). Writes bench/results/face-pipeline-sessions-<N>.json.
 * Run: node --import tsx bench/face-pipeline-sessions.ts [sessions=4] [seconds=20] [workers=1]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { extractJpegFrames } from '../src/training/face-eval/clip-frames.js';
import { listLabelledClips } from '../src/training/face-eval/eval-clips.js';
import { loadVideoAnalyzer } from '../src/face/index.js';

const sessions = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 20);
const workers = Number(process.argv[4] ?? 1);
const fps = 10;
const shared = new URL('../../shared/faces', import.meta.url).pathname;
const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const stats = (xs: number[]) => ({ n: xs.length, meanMs: +(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(2), p50Ms: +q(xs, 0.5).toFixed(2), p95Ms: +q(xs, 0.95).toFixed(2), p99Ms: +q(xs, 0.99).toFixed(2) });

const clipFrames: Buffer[][] = [];
if (existsSync(shared)) {
  for (const p of listLabelledClips(shared)) clipFrames.push((await extractJpegFrames(p, fps)).map((f) => f.jpeg));
} else {
  const dir = new URL('../tests/fixtures/faces/', import.meta.url).pathname;
  clipFrames.push(readdirSync(dir).filter((f) => f.endsWith('.jpg')).map((f) => readFileSync(join(dir, f))));
}

const analyzer = await loadVideoAnalyzer({ workers });
if (!analyzer.status().available) throw new Error(String(analyzer.status().error));
const latency: number[] = [], faceMs: number[] = [];
let skipped = 0, errors = 0, frames = 0, withFace = 0;
const loop = monitorEventLoopDelay({ resolution: 1 });

async function session(i: number): Promise<void> {
  const stream = analyzer.createStream();
  // Each session plays the clips in its own order, starting at its own phase.
  const order = clipFrames.map((_, k) => clipFrames[(k + i * 5) % clipFrames.length]).flat();
  await sleep((i * 1000) / fps / sessions);
  const t0 = performance.now();
  let busy = false;
  let newest: { jpeg: Buffer; sentAt: number } | null = null;
  const pump = async (): Promise<void> => {
    if (busy || !newest) return;
    busy = true;
    const f = newest;
    newest = null;
    try {
      const r = await stream.analyze({ format: 'jpeg', width: 0, height: 0, payload: f.jpeg, ptsUs: 0 });
      latency.push(performance.now() - f.sentAt);
      faceMs.push(r.faceMs);
      if (r.faces.length) withFace++;
    } catch {
      errors++;
    }
    busy = false;
    void pump();
  };
  for (let n = 0; n < seconds * fps; n++) {
    const due = t0 + (n * 1000) / fps;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    frames++;
    // The server's rule: while the analyzer is busy only the newest frame waits; older ones are skipped.
    if (newest) skipped++;
    newest = { jpeg: order[n % order.length], sentAt: performance.now() };
    void pump();
  }
  while (busy || newest) await sleep(5);
  stream.dispose();
}

// Warm-up (kernel compilation in the worker).
const w = analyzer.createStream();
for (let i = 0; i < 5; i++) await w.analyze({ format: 'jpeg', width: 0, height: 0, payload: clipFrames[0][i % clipFrames[0].length], ptsUs: 0 });
w.dispose();
loop.enable();
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
await Promise.all(Array.from({ length: sessions }, (_, i) => session(i)));
const wallMs = performance.now() - wall0;
loop.disable();
const cpu = process.cpuUsage(cpu0);
const result = {
  bench: 'face-pipeline-sessions',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1), platform: platform(), arch: arch(), node: process.version, loadavg1m: loadavg()[0] },
  setup: { sessions, seconds, fps, workers, input: existsSync(shared) ? '../shared/faces clips' : 'tests/fixtures/faces', worker: analyzer.status().provider },
  framesSent: frames,
  framesAnalysed: latency.length,
  framesSkippedWhileBusy: skipped,
  errors,
  framesWithFace: withFace,
  analysedFpsPerSession: +(latency.length / sessions / (wallMs / 1000)).toFixed(2),
  resultLatency: stats(latency),
  faceStage: stats(faceMs),
  mainThreadEventLoopDelayMs: { p50: +(loop.percentile(50) / 1e6).toFixed(2), p99: +(loop.percentile(99) / 1e6).toFixed(2), max: +(loop.max / 1e6).toFixed(2) },
  processCpuCores: +((cpu.user + cpu.system) / 1000 / wallMs).toFixed(2),
  rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
};
await analyzer.dispose();
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/face-pipeline-sessions-${sessions}${workers > 1 ? `-w${workers}` : ''}.json`, import.meta.url), JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result, null, 1));
