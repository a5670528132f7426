/**
 * What the front-end parity test (front-end-parity.test.ts) compares: a fixed stream configuration that switches on
 * every part (log-mel, speaker norm, YIN pitch, every functional group, the speaker-normalised copy) and is independent
 * of models/speech/model.json (which retraining changes), the signals, and how outputs are laid out in the golden file.
 * The golden file was written by the front end of 7f2ee49 (before the session-9 speed-ups) with
 * `node --import tsx tests/unit/features/front-end-golden.ts OUT ROOT` (ROOT: a checkout of that commit).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeWav } from '../../../src/features/wav.js';

export const GOLDEN_PATH = 'tests/fixtures/speech/front-end-golden-7f2ee49.bin';
const HOP = 8000, WIN = 48000;

/** A 4 s test signal: a gliding harmonic voice with vibrato, noise, a silent gap and a quiet tail (deterministic). */
export function syntheticSignal(): Float32Array {
  let seed = 11;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  let phase = 0;
  return Float32Array.from({ length: 64000 }, (_, i) => {
    const t = i / 16000;
    const f0 = 110 + 140 * t / 4 + 6 * Math.sin(2 * Math.PI * 5 * t);
    phase += (2 * Math.PI * f0) / 16000;
    const voiced = t > 1.6 && t < 2.0 ? 0 : t > 3.4 ? 0.02 : 0.3;
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(h * phase) / h;
    return voiced * v + 0.01 * noise();
  });
}

export function fixtureClip(): Float32Array {
  return decodeWav(readFileSync('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav')).samples;
}

/** Per signal: F0, aperiodicity and CMND minimum of every frame, each hop's functionals, the last window's features. */
export async function frontEndOutputs(root: string, signal: Float32Array): Promise<Float32Array[]> {
  const imp = (p: string) => import(pathToFileURL(join(root, p)).href);
  const { FeatureSpeechStream } = await imp('src/models/speech/feature-stream.ts');
  const { DEFAULT_MEL_CONFIG } = await imp('src/features/mel-config.ts');
  const { DEFAULT_PITCH_CONFIG, pitchFrames, pitchFrameCount } = await imp('src/features/pitch.ts');
  const { rawFunctionalCount } = await imp('src/features/functionals.ts');
  const raw = rawFunctionalCount(true, true, true) as number;
  const bands = DEFAULT_MEL_CONFIG.melBands as number;
  const stream = new FeatureSpeechStream({
    mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: -14,
    prior: { mean: new Float32Array(bands).fill(-8), std: new Float32Array(bands).fill(2) }, priorWeightFrames: 300,
    pitch: {
      config: DEFAULT_PITCH_CONFIG, priorLog2Hz: Math.log2(150), priorWeightFrames: 100, voiceQuality: true, spectroTemporal: true, shape: true,
      speakerNorm: { prior: { mean: new Float32Array(raw), std: new Float32Array(raw).fill(1) }, weightWindows: 10, keepRaw: true },
    },
  });
  const frames = pitchFrameCount(signal.length, DEFAULT_MEL_CONFIG) as number;
  const voice = { aperiodicity: new Float32Array(frames), minCmnd: new Float32Array(frames) };
  const f0 = pitchFrames(signal, DEFAULT_MEL_CONFIG, DEFAULT_PITCH_CONFIG, voice) as Float32Array;
  const out: Float32Array[] = [f0, voice.aperiodicity, voice.minCmnd];
  let last: Float32Array | null = null;
  for (let end = HOP; end <= signal.length; end += HOP) {
    stream.push(signal.subarray(end - HOP, end));
    const w = stream.window(end, WIN) as { features: Float32Array; functionals: Float32Array } | null;
    if (!w) continue;
    out.push(w.functionals);
    last = w.features;
  }
  if (last) out.push(last);
  return out;
}

/** Arrays as [count, then per array: length, float32 values] (little-endian uint32 / float32). */
export function encodeArrays(arrays: Float32Array[]): Uint8Array {
  const words = 1 + arrays.reduce((n, a) => n + 1 + a.length, 0);
  const buf = Buffer.alloc(4 * words);
  let o = 0;
  buf.writeUInt32LE(arrays.length, o); o += 4;
  for (const a of arrays) {
    buf.writeUInt32LE(a.length, o); o += 4;
    for (const v of a) { buf.writeFloatLE(v, o); o += 4; }
  }
  return buf;
}

export function decodeArrays(bytes: Uint8Array): Float32Array[] {
  const buf = Buffer.from(bytes);
  let o = 0;
  const count = buf.readUInt32LE(o); o += 4;
  const out: Float32Array[] = [];
  for (let k = 0; k < count; k++) {
    const n = buf.readUInt32LE(o); o += 4;
    out.push(Float32Array.from({ length: n }, (_, i) => buf.readFloatLE(o + 4 * i)));
    o += 4 * n;
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve('tests/unit/features/front-end-golden.ts')) {
  const [outPath, root] = process.argv.slice(2);
  if (!outPath || !root) throw new Error('usage: front-end-golden.ts OUT ROOT');
  const arrays = [...await frontEndOutputs(resolve(root), syntheticSignal()), ...await frontEndOutputs(resolve(root), fixtureClip())];
  writeFileSync(outPath, encodeArrays(arrays));
  console.log(`${outPath}: ${arrays.length} arrays`);
}
