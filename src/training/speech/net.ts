import type * as tfType from '@tensorflow/tfjs';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { rng } from '../random.js';

type Tf = typeof tfType;
type Tensor = tfType.Tensor;

/**
 * Temporal CNN over normalised log-mel frames. Convolutions are written as shifted slices + matMul because the
 * TF.js wasm backend has no Conv2D gradient kernels; the ONNX export maps each one onto a 1-D Conv.
 */
export interface ConvLayerConfig {
  channels: number;
  kernel: number;
  /** Average-pool factor over time after the ReLU (1 = none). */
  pool: number;
}

export interface SpeechNetConfig {
  melBands: number;
  frames: number;
  /** Adjacent frames stacked into one input step before the first convolution (halves the time axis at 2). */
  stack: number;
  convs: ConvLayerConfig[];
  /** 'attention': softmax-weighted sum over time (tanh scorer); 'meanmax': concat of mean and max over time. */
  pooling: 'attention' | 'meanmax';
  attentionDim: number;
  dropout: number;
  /** Per-frame layer normalisation over channels after each convolution, before the ReLU ('none' when absent). */
  norm?: 'none' | 'layer';
  /** Channel (spatial) dropout after each convolution block while training (0 when absent). */
  convDropout?: number;
  numClasses: number;
}

export const DEFAULT_NET_CONFIG: SpeechNetConfig = {
  melBands: 40,
  frames: 300,
  stack: 2,
  convs: [
    { channels: 64, kernel: 5, pool: 2 },
    { channels: 96, kernel: 5, pool: 2 },
    { channels: 128, kernel: 5, pool: 1 },
  ],
  pooling: 'attention',
  attentionDim: 64,
  dropout: 0.3,
  numClasses: NUM_EMOTIONS,
};

/** Named float32 weights: the unit that is saved, exported to ONNX and loaded back. */
export type WeightMap = Record<string, { data: Float32Array; shape: number[] }>;

export interface SpeechNet {
  config: SpeechNetConfig;
  vars: Record<string, tfType.Variable>;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** He-normal weights for ReLU layers, Glorot for the rest, zero biases. */
export function initWeights(cfg: SpeechNetConfig, seed: number): WeightMap {
  const rand = rng(seed);
  const w: WeightMap = {};
  const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => gaussian(rand) * std);
  let cin = cfg.melBands * cfg.stack;
  cfg.convs.forEach((c, i) => {
    const fanIn = c.kernel * cin;
    w[`conv${i}.w`] = { data: normal(fanIn * c.channels, Math.sqrt(2 / fanIn)), shape: [fanIn, c.channels] };
    w[`conv${i}.b`] = { data: new Float32Array(c.channels), shape: [c.channels] };
    if (cfg.norm === 'layer') {
      w[`conv${i}.gamma`] = { data: new Float32Array(c.channels).fill(1), shape: [c.channels] };
      w[`conv${i}.beta`] = { data: new Float32Array(c.channels), shape: [c.channels] };
    }
    cin = c.channels;
  });
  let pooled = cin;
  if (cfg.pooling === 'attention') {
    w['att.w'] = { data: normal(cin * cfg.attentionDim, Math.sqrt(2 / (cin + cfg.attentionDim))), shape: [cin, cfg.attentionDim] };
    w['att.b'] = { data: new Float32Array(cfg.attentionDim), shape: [cfg.attentionDim] };
    w['att.v'] = { data: normal(cfg.attentionDim, Math.sqrt(1 / cfg.attentionDim)), shape: [cfg.attentionDim, 1] };
  } else {
    pooled = 2 * cin;
  }
  w['out.w'] = { data: normal(pooled * cfg.numClasses, Math.sqrt(2 / (pooled + cfg.numClasses))), shape: [pooled, cfg.numClasses] };
  w['out.b'] = { data: new Float32Array(cfg.numClasses), shape: [cfg.numClasses] };
  return w;
}

export function createNet(tf: Tf, cfg: SpeechNetConfig, weights: WeightMap): SpeechNet {
  const vars: Record<string, tfType.Variable> = {};
  for (const [name, t] of Object.entries(weights)) vars[name] = tf.variable(tf.tensor(t.data, t.shape), true);
  return { config: cfg, vars };
}

export async function readWeights(net: SpeechNet): Promise<WeightMap> {
  const out: WeightMap = {};
  for (const [name, v] of Object.entries(net.vars)) out[name] = { data: (await v.data()) as Float32Array, shape: v.shape.slice() };
  return out;
}

let denseOp: ((x: Tensor, w: Tensor) => Tensor) | null = null;

/**
 * x [N, K] @ w [K, M] with a hand-written gradient: the wasm backend runs transposed matMuls (which the default
 * gradient uses) about 10x slower than an explicit transpose followed by a plain matMul.
 */
export function dense(tf: Tf, x: Tensor, w: Tensor): Tensor {
  denseOp ??= tf.customGrad(((...args: unknown[]) => {
    const [a, b, save] = args as [Tensor, Tensor, (t: Tensor[]) => void];
    save([a, b]);
    return {
      value: tf.matMul(a as tfType.Tensor2D, b as tfType.Tensor2D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [
        tf.matMul(dy as tfType.Tensor2D, tf.transpose(saved[1]) as tfType.Tensor2D),
        tf.matMul(tf.transpose(saved[0]) as tfType.Tensor2D, dy as tfType.Tensor2D),
      ],
    };
  }) as Parameters<Tf['customGrad']>[0]) as unknown as (x: Tensor, w: Tensor) => Tensor;
  return denseOp(x, w);
}

/** 'same' 1-D convolution of x [B, T, C] with kernel k as k shifted slices concatenated on channels, then matMul. */
function conv1d(tf: Tf, x: Tensor, w: Tensor, b: Tensor, kernel: number): Tensor {
  const [batch, frames, channels] = x.shape as [number, number, number];
  const half = (kernel - 1) >> 1;
  const padded = tf.pad(x, [[0, 0], [half, kernel - 1 - half], [0, 0]]);
  const shifted: Tensor[] = [];
  for (let j = 0; j < kernel; j++) shifted.push(tf.slice(padded, [0, j, 0], [batch, frames, channels]));
  const stacked = tf.concat(shifted, 2).reshape([batch * frames, kernel * channels]);
  return tf.add(dense(tf, stacked, w), b).reshape([batch, frames, -1]);
}

export const LAYER_NORM_EPS = 1e-5;

/** Logits [B, numClasses] for features [B, frames, melBands]; dropout only when `training`. */
export function forward(tf: Tf, net: SpeechNet, x: Tensor, training: boolean, seed = 0): Tensor {
  const cfg = net.config;
  const v = net.vars;
  const [b0, t0, f0] = x.shape as [number, number, number];
  const steps = Math.floor(t0 / cfg.stack);
  let h = steps * cfg.stack === t0 ? x : tf.slice(x, [0, 0, 0], [b0, steps * cfg.stack, f0]);
  if (cfg.stack > 1) h = h.reshape([b0, steps, cfg.stack * f0]);
  cfg.convs.forEach((c, i) => {
    h = conv1d(tf, h, v[`conv${i}.w`], v[`conv${i}.b`], c.kernel);
    if (cfg.norm === 'layer') {
      const { mean, variance } = tf.moments(h, 2, true);
      h = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPS))), v[`conv${i}.gamma`]), v[`conv${i}.beta`]);
    }
    h = tf.relu(h);
    if (training && (cfg.convDropout ?? 0) > 0) {
      const [batch, , ch] = h.shape as [number, number, number];
      h = tf.dropout(h, cfg.convDropout!, [batch, 1, ch], seed + 7919 * (i + 1));
    }
    if (c.pool > 1) {
      const [batch, frames, ch] = h.shape as [number, number, number];
      const kept = Math.floor(frames / c.pool) * c.pool;
      if (kept !== frames) h = tf.slice(h, [0, 0, 0], [batch, kept, ch]);
      h = tf.mean(h.reshape([batch, kept / c.pool, c.pool, ch]), 2);
    }
  });
  const [batch, frames, ch] = h.shape as [number, number, number];
  let pooled: Tensor;
  if (cfg.pooling === 'attention') {
    const flat = h.reshape([batch * frames, ch]);
    const scores = dense(tf, tf.tanh(tf.add(dense(tf, flat, v['att.w']), v['att.b'])), v['att.v'])
      .reshape([batch, frames, 1]);
    const weights = tf.softmax(scores.reshape([batch, frames])).reshape([batch, frames, 1]);
    pooled = tf.sum(tf.mul(h, weights), 1);
  } else {
    pooled = tf.concat([tf.mean(h, 1), tf.max(h, 1)], 1);
  }
  if (training && cfg.dropout > 0) pooled = tf.dropout(pooled, cfg.dropout, undefined, seed);
  return tf.add(dense(tf, pooled, v['out.w']), v['out.b']);
}
