/**
 * Speech model speed on one CPU core (onnxruntime-node, 1 intra-op thread): ONNX inference per 3 s window at batch
 * 1, 8 and 32, and the front end: incremental features per 0.5 s hop (what the server does) against recomputing the
 * whole 3 s window's features every hop. Writes bench/results/speech-latency.json.
 * Run: node --import tsx bench/speech-latency.ts [modelDir] [--provider cpu|webgpu|cuda] [--batches 1,8,32] [--out FILE]
 * (on a GPU, the per-call fixed cost is what batching amortises: compare the per-window figure across batch sizes).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createInProcessRunner } from '../src/models/onnx-runner-inprocess.js';
import { loadSpeechModel, type SpeechWindow } from '../src/models/speech/index.js';
import { isVoicedStream } from '../src/models/speech/voiced-stream.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    provider: { type: 'string', default: 'cpu' },
    batches: { type: 'string', default: '1,8,32' },
    out: { type: 'string', default: 'bench/results/speech-latency.json' },
  },
});
const provider = args.provider as 'cpu' | 'webgpu' | 'cuda';
if (!['cpu', 'webgpu', 'cuda'].includes(provider)) throw new Error(`--provider must be cpu, webgpu or cuda (got ${args.provider})`);
const batches = args.batches!.split(',').map(Number);
if (!batches.every((b) => Number.isInteger(b) && b >= 1)) throw new Error(`--batches must list positive integers (got ${args.batches})`);
const dir = positionals[0] ?? 'models/speech';
const model = await loadSpeechModel({ dir, runnerFactory: (p) => createInProcessRunner(p, { intraOpThreads: 1, executionProvider: provider }) });
const st = model.status();
if (!st.available) throw new Error(`speech model not available: ${st.error}`);

function quantiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), p99: q(0.99), mean: xs.reduce((a, b) => a + b, 0) / xs.length, n: xs.length };
}

let seed = 7;
const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
const audio = Float32Array.from({ length: 16000 * 60 }, (_, i) => 0.2 * Math.sin(i / 9) * (0.5 + 0.5 * Math.sin(i / 4000)) + 0.05 * noise());

// Front end: one session, 0.5 s hops, a 3 s window after each hop.
const hop = 8000, win = 48000;
const stream = model.createStream();
const incremental: number[] = [];
// Voice activity (Silero VAD over the hop's audio, src/models/speech/vad.ts) and front end + VAD together, per hop.
const vadMs: number[] = [];
const withVad: number[] = [];
// CPU time of the process (user + system) for the same steps: unlike wall time it does not count time spent waiting
// for a core, so it stays meaningful on a loaded machine.
const cpuFrontEnd: number[] = [];
const cpuWithVad: number[] = [];
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const windows: SpeechWindow[] = [];
for (let at = 0; at + hop <= audio.length; at += hop) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  stream.push(audio.subarray(at, at + hop));
  const w = stream.window(at + hop, win);
  const t1 = performance.now();
  incremental.push(t1 - t0);
  cpuFrontEnd.push(cpuMs(process.cpuUsage(c0)));
  if (isVoicedStream(stream)) {
    await stream.speechRatio(Math.max(0, at + hop - win), at + hop);
    const t2 = performance.now();
    vadMs.push(t2 - t1);
    withVad.push(t2 - t0);
    cpuWithVad.push(cpuMs(process.cpuUsage(c0)));
  }
  if (w && at + hop >= win) windows.push(w);
}
// Without reuse: a fresh stream of the same model fed the whole 3 s window at every hop (log-mel, and pitch and
// window functionals when the model takes them, for all 300 frames).
const recompute: number[] = [];
for (let end = win; end <= audio.length; end += hop) {
  const t0 = performance.now();
  const fresh = model.createStream();
  fresh.push(audio.subarray(end - win, end));
  fresh.window(win, win);
  recompute.push(performance.now() - t0);
  fresh.close?.();
}

const inference: Record<string, ReturnType<typeof quantiles> & { perWindowMedian: number }> = {};
for (const batch of batches) {
  const times: number[] = [];
  const iterations = Math.max(20, Math.round(300 / Math.sqrt(batch)));
  for (let i = 0; i < iterations + 5; i++) {
    const ws = Array.from({ length: batch }, (_, k) => windows[(i * batch + k) % windows.length]);
    const t0 = performance.now();
    await model.inferBatch(ws);
    if (i >= 5) times.push(performance.now() - t0);
  }
  const q = quantiles(times);
  inference[`batch${batch}`] = { ...q, perWindowMedian: q.median / batch };
}
await model.dispose();

const result = {
  bench: 'speech-latency',
  createdAt: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
  model: { dir, name: st.name, details: st.details },
  loadAverage1m: loadavg()[0],
  runtime: `onnxruntime-node, ${provider} execution provider, intraOpNumThreads 1, interOpNumThreads 1`,
  inferenceMs: inference,
  frontEndMsPerHop: {
    incremental: quantiles(incremental),
    recomputeWholeWindow: quantiles(recompute),
    ...(vadMs.length > 0 ? { vad: quantiles(vadMs), incrementalPlusVad: quantiles(withVad), cpuMs: { incremental: quantiles(cpuFrontEnd), incrementalPlusVad: quantiles(cpuWithVad) } } : {}),
    note: 'vad = Silero VAD v4 over the hop (its 5-6 chunks of 1,536 samples in one call, src/models/speech/vad-sequence-graph.ts; target front end + VAD <= 1.5 ms per hop on one core); incremental = push 0.5 s + build the 3 s window (50 new frames computed, 250 reused); recompute = a fresh stream of the same model fed the whole 3 s window every hop (all 300 frames: log-mel, and pitch + functionals when the model has them)',
  },
};
mkdirSync(dirname(args.out!), { recursive: true });
writeFileSync(args.out!, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify({ inference: Object.fromEntries(Object.entries(inference).map(([k, v]) => [k, { median: v.median.toFixed(3), p95: v.p95.toFixed(3), perWindow: v.perWindowMedian.toFixed(3) }])), incrementalMedian: result.frontEndMsPerHop.incremental.median.toFixed(3), vadMedian: vadMs.length > 0 ? quantiles(vadMs).median.toFixed(3) : null, frontEndPlusVadMedian: withVad.length > 0 ? quantiles(withVad).median.toFixed(3) : null, cpuFrontEndMean: quantiles(cpuFrontEnd).mean.toFixed(3), cpuFrontEndPlusVadMean: cpuWithVad.length > 0 ? quantiles(cpuWithVad).mean.toFixed(3) : null, loadAverage: loadavg()[0].toFixed(1), recomputeMedian: result.frontEndMsPerHop.recomputeWholeWindow.median.toFixed(3) }, null, 1));
