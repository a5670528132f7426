import type * as tfType from '@tensorflow/tfjs';
import type { NormStats } from '../../features/speaker-norm.js';
import { DEFAULT_MEL_CONFIG } from '../../features/mel-config.js';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { augmentedWindow, plainWindow, whiteNoiseMelPower, DEFAULT_AUGMENT, type AugmentConfig } from './augment.js';
import { createNet, forward, initWeights, readWeights, DEFAULT_NET_CONFIG, type SpeechNetConfig, type WeightMap, type SpeechNet } from './net.js';
import { rng } from '../random.js';
import type { SpeechItem } from './dataset.js';

type Tf = typeof tfType;

export interface TrainConfig {
  net: SpeechNetConfig;
  augment: AugmentConfig;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Final learning rate as a fraction of the initial one (cosine decay per batch). */
  finalLrFraction: number;
  labelSmoothing: number;
  /** L2 penalty on the weight matrices (not biases). */
  weightDecay: number;
  /** Mixup: pairs of training windows blended with weight ~ Beta(a, a), labels alike (0 = off). */
  mixupAlpha?: number;
  seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  net: DEFAULT_NET_CONFIG,
  augment: DEFAULT_AUGMENT,
  epochs: 40,
  batchSize: 32,
  learningRate: 2e-3,
  finalLrFraction: 0.02,
  labelSmoothing: 0.1,
  weightDecay: 1e-4,
  seed: 7,
};

export interface TrainProgress { epoch: number; epochs: number; batch: number; batches: number; loss: number }

/** Trains one network on the given clips (each normalised with its actor's statistics); returns its weights. */
export async function trainSpeechNet(
  tf: Tf, items: SpeechItem[], actorStats: Map<number, NormStats>, cfg: TrainConfig,
  onProgress?: (p: TrainProgress) => void,
): Promise<WeightMap> {
  if (items.length === 0) throw new Error('trainSpeechNet: no training clips');
  const { net: netCfg } = cfg;
  const bands = netCfg.melBands, frames = netCfg.frames;
  const rand = rng(cfg.seed);
  const net = createNet(tf, netCfg, initWeights(netCfg, cfg.seed));
  const optimizer = tf.train.adam(cfg.learningRate);
  const noiseMel = whiteNoiseMelPower({ ...DEFAULT_MEL_CONFIG, melBands: bands });
  const batches = Math.ceil(items.length / cfg.batchSize);
  const totalSteps = cfg.epochs * batches;
  const xBuf = new Float32Array(cfg.batchSize * frames * bands);
  const smooth = cfg.labelSmoothing;
  const decayed = Object.entries(net.vars).filter(([n]) => n.endsWith('.w') || n.endsWith('.v')).map(([, v]) => v);
  let step = 0;
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const order = shuffled(items.length, rand);
      for (let b = 0; b < batches; b++) {
        const idx = order.slice(b * cfg.batchSize, (b + 1) * cfg.batchSize);
        const n = idx.length;
        const yBuf = new Float32Array(n * NUM_EMOTIONS).fill(smooth / NUM_EMOTIONS);
        idx.forEach((i, k) => {
          const it = items[i];
          augmentedWindow(it.logMel, it.frames, bands, actorStats.get(it.actor)!, frames, cfg.augment, rand, noiseMel, xBuf, k * frames * bands);
          yBuf[k * NUM_EMOTIONS + it.label] += 1 - smooth;
        });
        if ((cfg.mixupAlpha ?? 0) > 0) mixup(xBuf, yBuf, n, frames * bands, cfg.mixupAlpha!, rand);
        const lr = cfg.learningRate * (cfg.finalLrFraction + (1 - cfg.finalLrFraction) * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps)));
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        const dropSeed = Math.floor(rand() * 1e9);
        const loss = tf.tidy(() => {
          const x = tf.tensor3d(xBuf.subarray(0, n * frames * bands), [n, frames, bands]);
          const y = tf.tensor2d(yBuf, [n, NUM_EMOTIONS]);
          return optimizer.minimize(() => {
            const logits = forward(tf, net, x, true, dropSeed);
            let l = tf.losses.softmaxCrossEntropy(y, logits) as tfType.Scalar;
            if (cfg.weightDecay > 0) l = tf.add(l, tf.mul(cfg.weightDecay, tf.addN(decayed.map((v) => tf.sum(tf.square(v)))))) as tfType.Scalar;
            return l;
          }, true)!;
        });
        const lossValue = (await loss.data())[0];
        loss.dispose();
        step++;
        onProgress?.({ epoch, epochs: cfg.epochs, batch: b, batches, loss: lossValue });
      }
    }
    return await readWeights(net);
  } finally {
    optimizer.dispose();
    for (const v of Object.values(net.vars)) v.dispose();
  }
}

/** Gamma(shape, 1) sample (Marsaglia-Tsang; shape < 1 boosted by U^(1/shape)). */
function gammaSample(shape: number, rand: () => number): number {
  if (shape < 1) return gammaSample(shape + 1, rand) * Math.pow(Math.max(rand(), 1e-12), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      const u1 = Math.max(rand(), 1e-12), u2 = rand();
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * Mixup in place on a batch: window k becomes lam * k + (1 - lam) * partner (a random other window of the batch),
 * with lam ~ Beta(alpha, alpha) folded to >= 0.5 so each window keeps its own label as the majority.
 */
export function mixup(x: Float32Array, y: Float32Array, n: number, per: number, alpha: number, rand: () => number): void {
  if (n < 2) return;
  const src = x.slice(0, n * per), ySrc = y.slice(0, n * NUM_EMOTIONS);
  for (let k = 0; k < n; k++) {
    const g1 = gammaSample(alpha, rand), g2 = gammaSample(alpha, rand);
    let lam = g1 / (g1 + g2);
    if (!(lam >= 0.5)) lam = Number.isFinite(lam) ? 1 - lam : 1;
    let p = Math.floor(rand() * (n - 1));
    if (p >= k) p++;
    for (let i = 0; i < per; i++) x[k * per + i] = lam * src[k * per + i] + (1 - lam) * src[p * per + i];
    for (let c = 0; c < NUM_EMOTIONS; c++) y[k * NUM_EMOTIONS + c] = lam * ySrc[k * NUM_EMOTIONS + c] + (1 - lam) * ySrc[p * NUM_EMOTIONS + c];
  }
}

function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}

/** End frames (exclusive) of the evaluation windows of a clip: every `hopFrames`, the last one at the clip's end. */
export function clipWindowEnds(frames: number, windowFrames: number, hopFrames: number): number[] {
  if (frames <= windowFrames) return [frames];
  const ends: number[] = [];
  for (let e = windowFrames; e < frames; e += hopFrames) ends.push(e);
  ends.push(frames);
  return ends;
}

/** Softmax posteriors of a batch of normalised windows [n, frames, bands]. */
export async function predictWindows(tf: Tf, net: SpeechNet, x: Float32Array, n: number): Promise<Float32Array> {
  const { frames, melBands } = net.config;
  const out = tf.tidy(() => tf.softmax(forward(tf, net, tf.tensor3d(x, [n, frames, melBands]), false)));
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

/**
 * Clip posterior = mean of the posteriors of its 3 s windows (hop `hopFrames`), each clip normalised with
 * `statsFor(item)`. Returns one 8-vector per item.
 */
export async function predictClips(
  tf: Tf, weights: WeightMap, netCfg: SpeechNetConfig, items: SpeechItem[], statsFor: (it: SpeechItem) => NormStats, hopFrames = 50,
): Promise<Float32Array[]> {
  const net = createNet(tf, netCfg, weights);
  const { frames, melBands } = netCfg;
  try {
    const results: Float32Array[] = [];
    for (const it of items) {
      const ends = clipWindowEnds(it.frames, frames, hopFrames);
      const x = new Float32Array(ends.length * frames * melBands);
      const stats = statsFor(it);
      ends.forEach((e, k) => plainWindow(it.logMel, e, melBands, stats, frames, x, k * frames * melBands));
      const probs = await predictWindows(tf, net, x, ends.length);
      const mean = new Float32Array(NUM_EMOTIONS);
      for (let k = 0; k < ends.length; k++) for (let c = 0; c < NUM_EMOTIONS; c++) mean[c] += probs[k * NUM_EMOTIONS + c] / ends.length;
      results.push(mean);
    }
    return results;
  } finally {
    for (const v of Object.values(net.vars)) v.dispose();
  }
}
