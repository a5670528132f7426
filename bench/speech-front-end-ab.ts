/**
 * Speech front end and voice activity per 0.5 s hop, this tree (B) against a baseline checkout (A), in one process,
 * interleaved: each repeat streams the same 60 s of audio through a fresh session of A and of B (in alternating
 * order), timing push + window (front end) and the speech ratio (Silero VAD) of every hop, wall and CPU. Also checks
 * that B computes what A does: window features, functionals and speech posteriors of the same model, and speech ratios.
 * Writes JSON (default bench/results/speech-latency-s9/ab.json).
 *
 * Run: git worktree add /tmp/emostream-base 7f2ee49 && ln -s "$PWD/node_modules" /tmp/emostream-base/node_modules
 *      node --import tsx bench/speech-front-end-ab.ts --baseline /tmp/emostream-base [--repeats 9] [--model models/speech]
 *      [--clips N] (N RAVDESS clips, from ../shared, also go through both for the parity figures)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SpeechWindow } from '../src/models/speech/index.js';
import { hasShared, listSpeechClips } from '../src/training/ravdess.js';
import { readWav } from '../src/features/wav.js';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    repeats: { type: 'string', default: '9' },
    model: { type: 'string', default: 'models/speech' },
    clips: { type: 'string', default: '12' },
    out: { type: 'string', default: 'bench/results/speech-latency-s9/ab.json' },
  },
});
if (!args.baseline) throw new Error('--baseline DIR (a checkout of the commit to compare with, its node_modules linked) is required');
const baseline = resolve(args.baseline);
if (!existsSync(join(baseline, 'node_modules'))) throw new Error(`${baseline}/node_modules is missing: link this tree's (ln -s "$PWD/node_modules" ${baseline}/node_modules)`);
const repeats = Number(args.repeats);
const clipCount = Number(args.clips);
if (!(Number.isInteger(repeats) && repeats >= 1 && Number.isInteger(clipCount) && clipCount >= 0)) throw new Error('--repeats >= 1 and --clips >= 0 must be integers');
const modelDir = resolve(args.model!);

interface Stream {
  push(x: Float32Array): void;
  window(end: number, len: number): SpeechWindow | null;
  speechRatio?(start: number, end: number): Promise<number>;
  close?(): void;
}
interface Model {
  createStream(): Stream;
  inferBatch(ws: SpeechWindow[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

async function load(root: string): Promise<Model> {
  const speech = await import(pathToFileURL(join(root, 'src/models/speech/index.ts')).href);
  const runner = await import(pathToFileURL(join(root, 'src/models/onnx-runner-inprocess.ts')).href);
  const model = await speech.loadSpeechModel({ dir: modelDir, runnerFactory: (p: string) => runner.createInProcessRunner(p, { intraOpThreads: 1 }) });
  if (!model.status().available) throw new Error(`${root}: speech model not available: ${model.status().error}`);
  return model as Model;
}

const builds = { A: await load(baseline), B: await load(resolve('.')) };

let seed = 7;
const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
// bench/speech-latency.ts's signal: a modulated tone over noise, never silent (the detector runs on every chunk).
const audio = Float32Array.from({ length: 16000 * 60 }, (_, i) => 0.2 * Math.sin(i / 9) * (0.5 + 0.5 * Math.sin(i / 4000)) + 0.05 * noise());
const HOP = 8000, WIN = 48000;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface HopRun { frontEndMs: number[]; vadMs: number[]; frontEndCpuMs: number[]; vadCpuMs: number[]; windows: SpeechWindow[]; ratios: number[] }

async function streamHops(model: Model, x: Float32Array, keep: boolean): Promise<HopRun> {
  const s = model.createStream();
  const run: HopRun = { frontEndMs: [], vadMs: [], frontEndCpuMs: [], vadCpuMs: [], windows: [], ratios: [] };
  for (let end = HOP; end <= x.length; end += HOP) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    s.push(x.subarray(end - HOP, end));
    const w = s.window(end, WIN);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const ratio = s.speechRatio ? await s.speechRatio(Math.max(0, end - WIN), end) : NaN;
    run.vadMs.push(performance.now() - t1);
    run.vadCpuMs.push(cpuMs(process.cpuUsage(c1)));
    run.frontEndMs.push(t1 - t0);
    run.frontEndCpuMs.push(cpuMs(process.cpuUsage(c0)) - run.vadCpuMs[run.vadCpuMs.length - 1]);
    if (keep && w) run.windows.push(w);
    run.ratios.push(ratio);
  }
  s.close?.();
  return run;
}

// Timing: per repeat, the median over its 120 hops; then min and median over the repeats.
const perRepeat: Record<'A' | 'B', { frontEnd: number[]; vad: number[]; total: number[]; frontEndCpu: number[]; vadCpu: number[] }> = {
  A: { frontEnd: [], vad: [], total: [], frontEndCpu: [], vadCpu: [] },
  B: { frontEnd: [], vad: [], total: [], frontEndCpu: [], vadCpu: [] },
};
for (let r = 0; r < repeats + 1; r++) {
  for (const k of (r % 2 === 0 ? ['A', 'B'] : ['B', 'A']) as ('A' | 'B')[]) {
    const run = await streamHops(builds[k], audio, false);
    if (r === 0) continue; // warm-up (JIT)
    const p = perRepeat[k];
    p.frontEnd.push(median(run.frontEndMs));
    p.vad.push(median(run.vadMs));
    p.total.push(median(run.frontEndMs.map((f, i) => f + run.vadMs[i])));
    p.frontEndCpu.push(run.frontEndCpuMs.reduce((a, b) => a + b, 0) / run.frontEndCpuMs.length);
    p.vadCpu.push(run.vadCpuMs.reduce((a, b) => a + b, 0) / run.vadCpuMs.length);
  }
}
const summary = (xs: number[]) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
const timing = Object.fromEntries((['A', 'B'] as const).map((k) => [k, Object.fromEntries(Object.entries(perRepeat[k]).map(([m, xs]) => [m, { ...summary(xs), perRepeat: xs }]))]));

// Parity: the same signals through both builds, hop by hop.
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
};
async function parity(name: string, x: Float32Array) {
  const [a, b] = [await streamHops(builds.A, x, true), await streamHops(builds.B, x, true)];
  let features = 0, functionals = 0, posterior = 0;
  for (let i = 0; i < a.windows.length; i++) {
    const wa = a.windows[i] as { features: Float32Array; functionals?: Float32Array }, wb = b.windows[i] as typeof wa;
    features = Math.max(features, maxAbs(wa.features, wb.features));
    if (wa.functionals && wb.functionals) functionals = Math.max(functionals, maxAbs(wa.functionals, wb.functionals));
  }
  for (let i = 0; i < a.windows.length; i += 16) {
    const [pa, pb] = [await builds.A.inferBatch(a.windows.slice(i, i + 16)), await builds.B.inferBatch(b.windows.slice(i, i + 16))];
    pa.forEach((r, j) => { posterior = Math.max(posterior, maxAbs(r, pb[j])); });
  }
  const ratiosDiffer = a.ratios.filter((r, i) => !(Object.is(r, b.ratios[i]))).length;
  return { name, windows: a.windows.length, maxAbsDiff: { features, functionals, posterior }, speechRatiosDiffering: ratiosDiffer, hops: a.ratios.length };
}
const parityRuns = [await parity('bench signal (60 s)', audio)];
if (clipCount > 0 && hasShared()) {
  const clips = listSpeechClips();
  // Clips are sorted by id, the actor last: a stride that is not a multiple of the 24 actors walks across them.
  let step = Math.max(1, Math.floor(clips.length / clipCount));
  if (step % 24 === 0) step++;
  for (let i = 0; i < clips.length && parityRuns.length <= clipCount; i += step) parityRuns.push(await parity(clips[i].path.split('/').slice(-2).join('/'), readWav(clips[i].path).samples));
}

await builds.A.dispose();
await builds.B.dispose();
const result = {
  bench: 'speech-front-end-ab',
  createdAt: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
  loadAverage1m: { end: loadavg()[0] },
  baseline, model: modelDir, repeats, hopsPerRepeat: audio.length / HOP,
  note: 'ms per 0.5 s hop, one stream, one core (ONNX intra-op 1). frontEnd = push 0.5 s + build the 3 s window (log-mel, YIN pitch, functionals); vad = speech ratio of the window (Silero over the new chunks); per repeat the median over its hops (Cpu: the mean of process CPU time, all threads); then min / median / max over repeats. A = baseline, B = this tree.',
  timing,
  parity: parityRuns,
};
mkdirSync(dirname(args.out!), { recursive: true });
writeFileSync(args.out!, JSON.stringify(result, null, 2) + '\n');
const fmt = (k: 'A' | 'B') => Object.fromEntries(Object.entries(timing[k]).map(([m, v]) => [m, `${(v as { min: number }).min.toFixed(3)} / ${(v as { median: number }).median.toFixed(3)}`]));
console.log(JSON.stringify({ 'min / median ms per hop': { A: fmt('A'), B: fmt('B') }, parity: parityRuns.map((p) => ({ name: p.name, ...p.maxAbsDiff, ratiosDiffering: p.speechRatiosDiffering })) }, null, 1));
