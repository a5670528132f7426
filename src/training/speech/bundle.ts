import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMOTIONS } from '../../protocol/labels.js';
import type { MelConfig } from '../../features/mel-config.js';
import type { NormStats } from '../../features/speaker-norm.js';
import type { FeaturesModelConfig } from '../../models/speech/config.js';
import type { PitchConfig } from '../../features/pitch.js';
import { rawFunctionalCount, type FunctionalNormStats } from '../../features/functionals.js';
import { exportSpeechCombinedOnnx, exportSpeechEnsembleOnnx, FEATURE_INPUT, FUNCTIONALS_INPUT, LOGITS_OUTPUT } from './onnx-export.js';
import type { SpeechNetConfig, WeightMap } from './net.js';
import type { FunctionalModel } from './functional-model.js';

export const ONNX_FILE = 'speech-tcn.onnx';
export const WEIGHTS_FILE = 'weights.bin';
export const FUNCTIONALS_WEIGHTS_FILE = 'functionals.bin';

/** The functionals model of a combined bundle (what model.json's `functionals` section describes). */
export interface BundleFunctionals {
  members: FunctionalModel[];
  weightCnn: number;
  pitch: PitchConfig;
  /** The streaming pitch reference's prior: mean log2 F0 of the training speakers, counted as this many voiced frames. */
  pitchPriorLog2Hz: number;
  pitchPriorWeightFrames: number;
  /** The functionals include the voice-quality group. */
  voiceQuality?: boolean;
  /** The functionals include the spectro-temporal group. */
  spectroTemporal?: boolean;
  /** The functionals include the shape group. */
  shape?: boolean;
  /**
   * The model takes [raw, speaker-normalised] functionals: the running functional normaliser's prior (the training
   * speakers' average statistics), counted as this many windows.
   */
  speakerNorm?: { prior: FunctionalNormStats; weightWindows: number; keepRaw: boolean };
}

const FUNCTIONAL_PARTS = ['mean', 'std', 'w1', 'b1', 'w2', 'b2'] as const;

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
  /** One weight map per ensemble member (one = a single network). */
  members: WeightMap[];
  /** A second model on window functionals, combined with the CNN in the same graph (second ONNX input). */
  functionals?: BundleFunctionals;
  training: Record<string, unknown>;
}

/** Manifest name of a member's weight: plain for a single network, `m<k>/<name>` in an ensemble. */
function memberWeightName(member: number, members: number, name: string): string {
  return members === 1 ? name : `m${member}/${name}`;
}

/**
 * Writes a features-kind speech model directory: the ONNX graph the server runs (a seed ensemble is one graph that
 * averages its members' posteriors), model.json (input contract, front end, normaliser prior, network config) and
 * the TF.js weights (weights.bin + manifest) for parity checks.
 */
export function saveSpeechBundle(dir: string, b: BundleInput): FeaturesModelConfig {
  mkdirSync(dir, { recursive: true });
  const k = b.members.length;
  const f = b.functionals;
  const doc = `emostream speech TCN${k > 1 ? `, mean posterior of a ${k}-seed ensemble` : ''}`
    + `${f ? `, combined with a ${f.members.length}-seed window-functionals MLP (CNN weight ${f.weightCnn})` : ''}; RAVDESS CC BY-NC-SA 4.0`;
  const rawDims = rawFunctionalCount(f?.voiceQuality === true, f?.spectroTemporal === true, f?.shape === true);
  const wantDims = f?.speakerNorm?.keepRaw ? 2 * rawDims : rawDims;
  if (f && f.members.some((m) => m.dims !== wantDims)) throw new Error(`speech bundle: functionals members must take ${wantDims} inputs`);
  writeFileSync(join(dir, ONNX_FILE), f ? exportSpeechCombinedOnnx(b.net, b.members, { members: f.members, weightCnn: f.weightCnn }, doc) : exportSpeechEnsembleOnnx(b.net, b.members, doc));
  let functionals: FeaturesModelConfig['functionals'];
  if (f) {
    const fManifest: { name: string; shape: number[]; offset: number; length: number }[] = [];
    let fOffset = 0;
    f.members.forEach((m, i) => {
      for (const part of FUNCTIONAL_PARTS) {
        const data = m[part];
        fManifest.push({ name: `f${i}/${part}`, shape: [data.length], offset: fOffset, length: data.length });
        fOffset += data.length;
      }
    });
    const fAll = new Float32Array(fOffset);
    f.members.forEach((m, i) => FUNCTIONAL_PARTS.forEach((part, j) => fAll.set(m[part], fManifest[i * FUNCTIONAL_PARTS.length + j].offset)));
    writeFileSync(join(dir, FUNCTIONALS_WEIGHTS_FILE), new Uint8Array(fAll.buffer));
    functionals = {
      inputName: FUNCTIONALS_INPUT,
      count: wantDims,
      ...(f.voiceQuality ? { voiceQuality: true } : {}),
      ...(f.spectroTemporal ? { spectroTemporal: true } : {}),
      ...(f.shape ? { shape: true } : {}),
      weightCnn: f.weightCnn,
      pitch: { ...f.pitch },
      pitchPrior: { meanLog2Hz: f.pitchPriorLog2Hz, weightFrames: f.pitchPriorWeightFrames },
      ...(f.speakerNorm ? {
        speakerNorm: {
          mean: Array.from(f.speakerNorm.prior.mean), std: Array.from(f.speakerNorm.prior.std), weightWindows: f.speakerNorm.weightWindows, keepRaw: f.speakerNorm.keepRaw,
        },
      } : {}),
      members: f.members.length,
      hidden: f.members[0].hidden,
      weightsFile: FUNCTIONALS_WEIGHTS_FILE,
      weightManifest: fManifest,
    };
  } else {
    rmSync(join(dir, FUNCTIONALS_WEIGHTS_FILE), { force: true });
  }
  const manifest: { name: string; shape: number[]; offset: number; length: number }[] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  b.members.forEach((weights, m) => {
    for (const [name, w] of Object.entries(weights)) {
      manifest.push({ name: memberWeightName(m, k, name), shape: w.shape, offset, length: w.data.length });
      parts.push(w.data);
      offset += w.data.length;
    }
  });
  const all = new Float32Array(offset);
  parts.forEach((d, i) => all.set(d, manifest[i].offset));
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
    ensembleMembers: k,
    weightsFile: WEIGHTS_FILE,
    weightManifest: manifest,
    ...(functionals ? { functionals } : {}),
    training: b.training,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(cfg, null, 2) + '\n');
  return cfg;
}

/** Reads the TF.js weights of a bundle back (parity tests, fine-tuning): one weight map per ensemble member. */
export function loadBundleWeights(dir: string): { net: SpeechNetConfig; members: WeightMap[] } {
  const cfg = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    net: SpeechNetConfig; ensembleMembers?: number; weightsFile: string; weightManifest: { name: string; shape: number[]; offset: number; length: number }[];
  };
  const k = cfg.ensembleMembers ?? 1;
  const bytes = readFileSync(join(dir, cfg.weightsFile));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const members: WeightMap[] = Array.from({ length: k }, () => ({}));
  for (const m of cfg.weightManifest) {
    const named = k === 1 ? null : /^m(\d+)\/(.+)$/.exec(m.name);
    const member = k === 1 ? 0 : named ? Number(named[1]) : -1;
    const name = k === 1 ? m.name : named ? named[2] : m.name;
    if (!(member >= 0 && member < k)) throw new Error(`${dir}: weight '${m.name}' names no ensemble member of ${k}`);
    members[member][name] = { data: all.slice(m.offset, m.offset + m.length), shape: m.shape };
  }
  return { net: cfg.net, members };
}

/** Reads a combined bundle's functionals models back (parity tests); null for a CNN-only bundle. */
export function loadBundleFunctionals(dir: string): { members: FunctionalModel[]; weightCnn: number } | null {
  const cfg = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    functionals?: { count: number; weightCnn: number; members: number; hidden: number; weightsFile: string; weightManifest: { name: string; offset: number; length: number }[] };
  };
  const f = cfg.functionals;
  if (!f) return null;
  const bytes = readFileSync(join(dir, f.weightsFile));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const part = (m: number, name: string) => {
    const e = f.weightManifest.find((x) => x.name === `f${m}/${name}`);
    if (!e) throw new Error(`${dir}: functionals weight 'f${m}/${name}' missing`);
    return all.slice(e.offset, e.offset + e.length);
  };
  const members = Array.from({ length: f.members }, (_, m): FunctionalModel => ({
    dims: f.count, hidden: f.hidden, mean: part(m, 'mean'), std: part(m, 'std'), w1: part(m, 'w1'), b1: part(m, 'b1'), w2: part(m, 'w2'), b2: part(m, 'b2'),
  }));
  return { members, weightCnn: f.weightCnn };
}
