import type * as tfType from '@tensorflow/tfjs';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { rng } from '../random.js';

type Tf = typeof tfType;

/** A small MLP (or, with hidden = 0, multinomial logistic regression) on z-scored window functionals. */
export interface FunctionalModelConfig {
  hidden: number;
  dropout: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on the weight matrices. */
  weightDecay: number;
  labelSmoothing: number;
  seed: number;
}

export const DEFAULT_FUNCTIONAL_MODEL: FunctionalModelConfig = {
  hidden: 128, dropout: 0.3, epochs: 30, batchSize: 64, learningRate: 1e-3, weightDecay: 1e-4, labelSmoothing: 0.1, seed: 7,
};

export interface FunctionalModel {
  dims: number;
  hidden: number;
  /** Feature standardisation fitted on the training windows. */
  mean: Float32Array;
  std: Float32Array;
  /** Row-major [in, out] weights and biases; w2/b2 unused (empty) when hidden = 0. */
  w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array;
}

/** Logit offset of a masked class: softmax gives it ~0 probability and (almost) no gradient reaches it. */
export const MASKED_LOGIT = -1e4;

/**
 * Per-row training options for several corpora: `mask` [n * 8] = 1 where the row's corpus has the class (a class it
 * lacks is left out of the softmax and the smoothed target: the row says nothing about it, it is not a negative);
 * `weight` [n] = the row's weight in the batch mean (corpus / speaker balance).
 */
export interface RowOptions {
  mask?: Uint8Array;
  weight?: Float32Array;
}

/** Smoothed target of one row into out[offset..+8]: `smooth` spread over the classes present in `mask` (8 flags; all without), 1 - smooth on the label. */
export function maskedTarget(label: number, smooth: number, mask: Uint8Array | undefined, out: Float32Array, offset: number): void {
  let present = 0;
  for (let c = 0; c < NUM_EMOTIONS; c++) present += mask ? mask[c] : 1;
  for (let c = 0; c < NUM_EMOTIONS; c++) out[offset + c] = (mask ? mask[c] : 1) ? smooth / present : 0;
  out[offset + label] += 1 - smooth;
}

/**
 * Weighted mean over rows of the cross entropy between `targets` and softmax(logits + maskBias) (maskBias: 0 for a
 * present class, MASKED_LOGIT for a masked one), i.e. the softmax over each row's present classes only.
 */
export function maskedSoftmaxCrossEntropy(tf: Tf, targets: tfType.Tensor2D, logits: tfType.Tensor2D, maskBias: tfType.Tensor2D, weights: tfType.Tensor1D): tfType.Scalar {
  const logp = tf.logSoftmax(tf.add(logits, maskBias) as tfType.Tensor2D);
  const perRow = tf.neg(tf.sum(tf.mul(targets, logp), 1)) as tfType.Tensor1D;
  return tf.div(tf.sum(tf.mul(perRow, weights)), tf.sum(weights)) as tfType.Scalar;
}

function glorot(rand: () => number, fanIn: number, fanOut: number): Float32Array {
  const lim = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: fanIn * fanOut }, () => (rand() * 2 - 1) * lim);
}

/**
 * Trains on `n` windows `x` [n, dims] with labels `y`; deterministic for a seed (TF.js wasm is single-threaded).
 * `pause` is awaited every 16 batches (lets a concurrent worker pool's messages through on the main thread).
 */
export async function trainFunctionalModel(
  tf: Tf, x: Float32Array, y: Int32Array, n: number, dims: number, cfg: FunctionalModelConfig, pause?: () => Promise<void>, rows?: RowOptions,
): Promise<FunctionalModel> {
  if (n === 0) throw new Error('trainFunctionalModel: no training windows');
  const mean = new Float32Array(dims), std = new Float32Array(dims);
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) mean[d] += x[i * dims + d] / n;
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) std[d] += (x[i * dims + d] - mean[d]) ** 2 / n;
  for (let d = 0; d < dims; d++) std[d] = Math.max(1e-3, Math.sqrt(std[d]));
  const z = new Float32Array(n * dims);
  for (let i = 0; i < n * dims; i++) z[i] = (x[i] - mean[i % dims]) / std[i % dims];

  const rand = rng(cfg.seed);
  const h = cfg.hidden;
  const outIn = h > 0 ? h : dims;
  const w1 = tf.variable(tf.tensor2d(glorot(rand, dims, h > 0 ? h : NUM_EMOTIONS), [dims, h > 0 ? h : NUM_EMOTIONS]));
  const b1 = tf.variable(tf.zeros([h > 0 ? h : NUM_EMOTIONS]));
  const w2 = h > 0 ? tf.variable(tf.tensor2d(glorot(rand, outIn, NUM_EMOTIONS), [outIn, NUM_EMOTIONS])) : null;
  const b2 = h > 0 ? tf.variable(tf.zeros([NUM_EMOTIONS])) : null;
  const optimizer = tf.train.adam(cfg.learningRate);
  const logits = (xb: tfType.Tensor2D, training: boolean, seed: number): tfType.Tensor2D => {
    const a = tf.add(tf.matMul(xb, w1), b1) as tfType.Tensor2D;
    if (!w2 || !b2) return a;
    let hid = tf.relu(a) as tfType.Tensor2D;
    if (training && cfg.dropout > 0) hid = tf.dropout(hid, cfg.dropout, undefined, seed) as tfType.Tensor2D;
    return tf.add(tf.matMul(hid, w2), b2) as tfType.Tensor2D;
  };
  try {
    const order = Array.from({ length: n }, (_, i) => i);
    const xb = new Float32Array(cfg.batchSize * dims);
    const yb = new Float32Array(cfg.batchSize * NUM_EMOTIONS);
    const smooth = cfg.labelSmoothing;
    // Without per-row options the loss is the original one (bit-identical RAVDESS runs); with them, masked and weighted.
    const perRow = rows?.mask !== undefined || rows?.weight !== undefined;
    const mb = new Float32Array(cfg.batchSize * NUM_EMOTIONS), wb = new Float32Array(cfg.batchSize), mrow = new Uint8Array(NUM_EMOTIONS);
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
      for (let start = 0; start < n; start += cfg.batchSize) {
        const m = Math.min(cfg.batchSize, n - start);
        yb.fill(smooth / NUM_EMOTIONS);
        for (let k = 0; k < m; k++) {
          const r = order[start + k];
          xb.set(z.subarray(r * dims, (r + 1) * dims), k * dims);
          if (!perRow) yb[k * NUM_EMOTIONS + y[r]] += 1 - smooth;
          else {
            if (rows.mask) mrow.set(rows.mask.subarray(r * NUM_EMOTIONS, (r + 1) * NUM_EMOTIONS));
            else mrow.fill(1);
            maskedTarget(y[r], smooth, mrow, yb, k * NUM_EMOTIONS);
            for (let c = 0; c < NUM_EMOTIONS; c++) mb[k * NUM_EMOTIONS + c] = mrow[c] ? 0 : MASKED_LOGIT;
            wb[k] = rows.weight ? rows.weight[r] : 1;
          }
        }
        if (pause && (start / cfg.batchSize) % 16 === 15) await pause();
        const dropSeed = Math.floor(rand() * 2 ** 31);
        optimizer.minimize(() => tf.tidy(() => {
          const xt = tf.tensor2d(xb.subarray(0, m * dims), [m, dims]);
          const yt = tf.tensor2d(yb.subarray(0, m * NUM_EMOTIONS), [m, NUM_EMOTIONS]);
          const loss = perRow
            ? maskedSoftmaxCrossEntropy(tf, yt, logits(xt, true, dropSeed), tf.tensor2d(mb.subarray(0, m * NUM_EMOTIONS), [m, NUM_EMOTIONS]), tf.tensor1d(wb.subarray(0, m)))
            : tf.losses.softmaxCrossEntropy(yt, logits(xt, true, dropSeed));
          const l2 = tf.mul(cfg.weightDecay, w2 ? tf.add(tf.sum(tf.square(w1)), tf.sum(tf.square(w2))) : tf.sum(tf.square(w1)));
          return tf.add(loss, l2) as tfType.Scalar;
        }));
      }
    }
    return {
      dims, hidden: h, mean, std,
      w1: (await w1.data()) as Float32Array, b1: (await b1.data()) as Float32Array,
      w2: w2 ? ((await w2.data()) as Float32Array) : new Float32Array(0), b2: b2 ? ((await b2.data()) as Float32Array) : new Float32Array(0),
    };
  } finally {
    for (const v of [w1, b1, w2, b2]) v?.dispose();
    optimizer.dispose();
  }
}

/**
 * A model trained on the first `model.dims` of `dims` functionals, widened to take all `dims`: the extra inputs get
 * zero first-layer weights (mean 0, std 1), so the posteriors are the narrow model's and every member of an ensemble
 * takes the same input (one ONNX input, unchanged export).
 */
export function widenFunctionalModel(model: FunctionalModel, dims: number): FunctionalModel {
  if (dims < model.dims) throw new Error(`widenFunctionalModel: ${model.dims} inputs cannot be narrowed to ${dims}`);
  if (dims === model.dims) return model;
  const width = model.hidden > 0 ? model.hidden : NUM_EMOTIONS;
  const w1 = new Float32Array(dims * width);
  w1.set(model.w1);
  const mean = new Float32Array(dims), std = new Float32Array(dims).fill(1);
  mean.set(model.mean); std.set(model.std);
  return { ...model, dims, mean, std, w1 };
}

/** Softmax posteriors [n, 8] of raw (un-standardised) functionals; plain JS, the same arithmetic the ONNX graph does. */
export function predictFunctionalModel(model: FunctionalModel, x: Float32Array, n: number): Float32Array {
  const { dims, hidden: h } = model;
  const out = new Float32Array(n * NUM_EMOTIONS);
  const z = new Float32Array(dims);
  const a = new Float32Array(h > 0 ? h : NUM_EMOTIONS);
  const width = a.length;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dims; d++) z[d] = (x[i * dims + d] - model.mean[d]) / model.std[d];
    for (let j = 0; j < width; j++) {
      let s = model.b1[j];
      for (let d = 0; d < dims; d++) s += z[d] * model.w1[d * width + j];
      a[j] = s;
    }
    const logits = out.subarray(i * NUM_EMOTIONS, (i + 1) * NUM_EMOTIONS);
    if (h > 0) {
      for (let c = 0; c < NUM_EMOTIONS; c++) {
        let s = model.b2[c];
        for (let j = 0; j < h; j++) s += Math.max(0, a[j]) * model.w2[j * NUM_EMOTIONS + c];
        logits[c] = s;
      }
    } else logits.set(a);
    let mx = -Infinity;
    for (let c = 0; c < NUM_EMOTIONS; c++) mx = Math.max(mx, logits[c]);
    let sum = 0;
    for (let c = 0; c < NUM_EMOTIONS; c++) { logits[c] = Math.exp(logits[c] - mx); sum += logits[c]; }
    for (let c = 0; c < NUM_EMOTIONS; c++) logits[c] /= sum;
  }
  return out;
}

/** The same posteriors through TF.js ops (what training's forward pass computes without dropout): parity reference. */
export async function predictFunctionalModelTf(tf: Tf, model: FunctionalModel, x: Float32Array, n: number): Promise<Float32Array> {
  const { dims, hidden: h } = model;
  const width = h > 0 ? h : NUM_EMOTIONS;
  const out = tf.tidy(() => {
    const z = tf.div(tf.sub(tf.tensor2d(x, [n, dims]), tf.tensor1d(model.mean)), tf.tensor1d(model.std));
    const a = tf.add(tf.matMul(z, tf.tensor2d(model.w1, [dims, width])), tf.tensor1d(model.b1));
    const logits = h > 0 ? tf.add(tf.matMul(tf.relu(a), tf.tensor2d(model.w2, [h, NUM_EMOTIONS])), tf.tensor1d(model.b2)) : a;
    return tf.softmax(logits as tfType.Tensor2D);
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}
