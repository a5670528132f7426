import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxGraphBuilder } from '../../src/onnx/builder.js';
import { AU_VECTOR_LENGTH, EMOTIONS, NUM_EMOTIONS } from '../../src/protocol/labels.js';
import type { AuWindow, FaceModel, Fusion, ModelStatus, OnnxRunner, SpeechModel, SpeechStream } from '../../src/contracts/models.js';
import type { ModelLoaders, ModelLoadOptions } from '../../src/models/registry.js';

/**
 * Tiny ONNX models for tests: a softmax-regression head over a few features, written to a directory as
 * `model.onnx` + `weights.json`. The server runs them like real models (worker pool, batcher); the tests check
 * every posterior against `referencePosterior`, the same arithmetic in plain TypeScript (golden tests).
 */
export const SPEECH_FEATURES = 3;

/** Deterministic pseudo-random weights (a fixed LCG), so golden numbers are reproducible. */
function weights(rows: number, cols: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: rows * cols }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 4;
  });
}

export interface TinyHead {
  inputs: number;
  w: number[];
  b: number[];
}

function writeHead(dir: string, inputName: string, inputs: number, seed: number): TinyHead {
  mkdirSync(dir, { recursive: true });
  const head = { inputs, w: weights(inputs, NUM_EMOTIONS, seed), b: weights(1, NUM_EMOTIONS, seed + 1) };
  const g = new OnnxGraphBuilder('tiny-head');
  g.input(inputName, ['batch', inputs]);
  const w = g.constFloat('w', head.w, [inputs, NUM_EMOTIONS]);
  const b = g.constFloat('b', head.b, [NUM_EMOTIONS]);
  const logits = g.op('Add', [g.op('MatMul', [inputName, w]), b]);
  g.op('Softmax', [logits], { axis: 1 }, 'probs');
  g.output('probs', ['batch', NUM_EMOTIONS]);
  writeFileSync(join(dir, 'model.onnx'), g.toBytes('emostream test fixture: tiny softmax head'));
  writeFileSync(join(dir, 'weights.json'), JSON.stringify(head));
  return head;
}

export function readHead(dir: string): TinyHead {
  return JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8')) as TinyHead;
}

/** softmax(x W + b) in float64: the golden reference. */
export function referencePosterior(head: TinyHead, x: ArrayLike<number>): Float32Array {
  const logits = new Float64Array(NUM_EMOTIONS);
  for (let k = 0; k < NUM_EMOTIONS; k++) {
    let z = head.b[k];
    for (let i = 0; i < head.inputs; i++) z += x[i] * head.w[i * NUM_EMOTIONS + k];
    logits[k] = z;
  }
  const m = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - m));
  const sum = e.reduce((a, v) => a + v, 0);
  return Float32Array.from(e, (v) => v / sum);
}

/** Speech features of a window: RMS, zero-crossing rate, peak: enough to separate loud/quiet/tonal test signals. */
export function speechFeatures(samples: ArrayLike<number>): Float32Array {
  let ss = 0;
  let zc = 0;
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    ss += samples[i] * samples[i];
    peak = Math.max(peak, Math.abs(samples[i]));
    if (i > 0 && (samples[i - 1] < 0) !== (samples[i] < 0)) zc++;
  }
  const n = Math.max(1, samples.length);
  return Float32Array.from([Math.sqrt(ss / n) * 4, (zc / n) * 20, peak]);
}

/** Face features: the mean AU vector over the window's frames. */
export function meanAus(w: AuWindow): Float32Array {
  const out = new Float32Array(AU_VECTOR_LENGTH);
  for (let f = 0; f < w.frames; f++) for (let j = 0; j < AU_VECTOR_LENGTH; j++) out[j] += w.aus[f * AU_VECTOR_LENGTH + j] / w.frames;
  return out;
}

export interface TinyDirs {
  speech: string;
  face: string;
}

export function buildTinyModels(root: string): TinyDirs {
  const dirs = { speech: join(root, 'speech'), face: join(root, 'face') };
  writeHead(dirs.speech, 'features', SPEECH_FEATURES, 11);
  writeHead(dirs.face, 'aus', AU_VECTOR_LENGTH, 23);
  return dirs;
}

class TinySpeechStream implements SpeechStream<Float32Array> {
  private samples: number[] = [];
  private dropped = 0;
  push(samples16k: Float32Array): void {
    for (const s of samples16k) this.samples.push(s);
    // Keep at most 10 s: this fixture stores raw audio; real models keep incremental features.
    const excess = this.samples.length - 160000;
    if (excess > 0) {
      this.samples.splice(0, excess);
      this.dropped += excess;
    }
  }
  window(endSample: number, windowSamples: number): Float32Array | null {
    const lo = Math.max(0, endSample - windowSamples - this.dropped);
    const hi = Math.min(endSample - this.dropped, this.samples.length);
    if (hi <= lo) return null;
    return speechFeatures(this.samples.slice(lo, hi));
  }
  reset(): void {
    this.samples = [];
    this.dropped = 0;
  }
  stats() {
    return { held: this.samples.length };
  }
}

function status(name: string, modality: 'speech' | 'face', runner: OnnxRunner | null, dir: string, error?: string): ModelStatus {
  return { name, modality, available: runner !== null, provider: runner?.provider, path: join(dir, 'model.onnx'), labels: EMOTIONS, ...(error ? { error } : {}) };
}

async function tinyHeadModel<W>(name: string, modality: 'speech' | 'face', o: ModelLoadOptions, inputName: string, features: (w: W) => Float32Array) {
  const dir = o.dir!;
  let runner: OnnxRunner | null = null;
  let error: string | undefined;
  if (!existsSync(join(dir, 'model.onnx'))) error = `missing ${join(dir, 'model.onnx')}`;
  else {
    try {
      runner = await o.runnerFactory(join(dir, 'model.onnx'));
    } catch (err) {
      error = String(err);
    }
  }
  const inputs = runner ? readHead(dir).inputs : 0;
  return {
    name,
    modality,
    status: () => status(name, modality, runner, dir, error),
    async inferBatch(windows: W[]): Promise<Float32Array[]> {
      const x = new Float32Array(windows.length * inputs);
      windows.forEach((w, i) => {
        const f = features(w);
        // A malformed window (wrong feature count) makes the whole batch call fail, as a real model would.
        if (f.length !== inputs) throw new Error(`${name}: window has ${f.length} features, expected ${inputs}`);
        x.set(f, i * inputs);
      });
      const out = await runner!.run({ [inputName]: { data: x, dims: [windows.length, inputs] } });
      const probs = out.probs;
      return windows.map((_, i) => probs.data.slice(i * NUM_EMOTIONS, (i + 1) * NUM_EMOTIONS));
    },
    dispose: async () => { await runner?.dispose(); },
  };
}

/** Loaders for `createEmoServer({ loaders })`: tiny ONNX heads from `dir`s given in config; no fusion or video model. */
export function tinyLoaders(): ModelLoaders {
  return {
    speech: async (o) => {
      const m = await tinyHeadModel<Float32Array>('tiny-speech', 'speech', o, 'features', (w) => w);
      return { ...m, createStream: () => new TinySpeechStream() } as SpeechModel;
    },
    face: async (o) => (await tinyHeadModel<AuWindow>('tiny-face', 'face', o, 'aus', meanAus)) as FaceModel,
    fusion: async () => { throw new Error('no fusion model in this test build'); },
    video: async () => { throw new Error('no video analyzer in this test build'); },
  };
}

export type { Fusion };
