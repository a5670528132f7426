import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMOTIONS } from '../../protocol/labels.js';
import type { MelConfig } from '../../features/mel-config.js';
import type { NormStats } from '../../features/speaker-norm.js';
import type { FeaturesModelConfig } from '../../models/speech/config.js';
import { exportSpeechNetOnnx, FEATURE_INPUT, LOGITS_OUTPUT } from './onnx-export.js';
import type { SpeechNetConfig, WeightMap } from './net.js';

export const ONNX_FILE = 'speech-tcn.onnx';
export const WEIGHTS_FILE = 'weights.bin';

/** What the server's feature stream needs besides the network: front end, speaker-normaliser prior, window and hop. */
export interface SpeechStreamContract {
  mel: MelConfig;
  activityGate: number;
  prior: NormStats;
  priorWeightFrames: number;
  windowSamples: number;
  hopSamples: number;
}

export interface BundleInput extends SpeechStreamContract {
  name?: string;
  net: SpeechNetConfig;
  weights: WeightMap;
  training: Record<string, unknown>;
}

/**
 * Writes a features-kind speech model directory: the ONNX graph the server runs, model.json (input contract,
 * front end, normaliser prior, network config) and the TF.js weights (weights.bin + manifest) for parity checks.
 */
export function saveSpeechBundle(dir: string, b: BundleInput): FeaturesModelConfig {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, ONNX_FILE), exportSpeechNetOnnx(b.net, b.weights, 'emostream speech TCN; RAVDESS CC BY-NC-SA 4.0'));
  const manifest: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, w] of Object.entries(b.weights)) {
    manifest.push({ name, shape: w.shape, offset, length: w.data.length });
    offset += w.data.length;
  }
  const all = new Float32Array(offset);
  for (const m of manifest) all.set(b.weights[m.name].data, m.offset);
  writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(all.buffer));
  const cfg = {
    kind: 'features' as const,
    name: b.name ?? 'emostream-speech-tcn',
    onnx: ONNX_FILE,
    sampleRate: 16000 as const,
    labels: [...EMOTIONS],
    windowSamples: b.windowSamples,
    hopSamples: b.hopSamples,
    inputName: FEATURE_INPUT,
    outputName: LOGITS_OUTPUT,
    windowFrames: b.net.frames,
    mel: b.mel,
    activityGate: b.activityGate,
    prior: { mean: Array.from(b.prior.mean), std: Array.from(b.prior.std), weightFrames: b.priorWeightFrames },
    net: b.net,
    weightsFile: WEIGHTS_FILE,
    weightManifest: manifest,
    training: b.training,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(cfg, null, 2) + '\n');
  return cfg;
}

/** Reads the TF.js weights of a bundle back (parity tests, fine-tuning). */
export function loadBundleWeights(dir: string): { net: SpeechNetConfig; weights: WeightMap } {
  const cfg = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { net: SpeechNetConfig; weightsFile: string; weightManifest: { name: string; shape: number[]; offset: number; length: number }[] };
  const bytes = readFileSync(join(dir, cfg.weightsFile));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const weights: WeightMap = {};
  for (const m of cfg.weightManifest) weights[m.name] = { data: all.slice(m.offset, m.offset + m.length), shape: m.shape };
  return { net: cfg.net, weights };
}
