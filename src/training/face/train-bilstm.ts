import { initTf } from '../tf.js';
import { AU_VECTOR_LENGTH, NUM_EMOTIONS } from '../../protocol/labels.js';
import { fitMinMax, type MinMaxParams } from '../../models/face/minmax.js';
import { padAuSequences } from '../../models/face/sequence-batch.js';
import { argmax, macroF1 } from '../metrics.js';
import { biLstmLogits, biLstmPredict, biLstmVariables, disposeBiLstm, initBiLstm, type BiLstmParams } from './bilstm.js';
import type { AuSequence } from './per-frame-aus.js';

export interface BiLstmTrainOptions {
  /** Paper: up to 300 epochs, batch 64, early stopping on validation macro-F1 with patience 30. */
  maxEpochs?: number;
  batchSize?: number;
  patience?: number;
  learningRate?: number;
  /** Longer clips keep their last `maxFrames` frames. */
  maxFrames?: number;
  seed?: number;
  log?: (msg: string) => void;
}

export interface BiLstmTrained {
  params: BiLstmParams;
  normaliser: MinMaxParams;
  bestEpoch: number;
  bestValF1: number;
  epochs: number;
}

/** Per-frame min-max fitted on the training frames; sequences normalised and cut to maxFrames. */
export function fitFrameNormaliser(seqs: AuSequence[]): MinMaxParams {
  const frames: Float32Array[] = [];
  for (const s of seqs) for (let f = 0; f < s.frames; f++) frames.push(s.aus.subarray(f * AU_VECTOR_LENGTH, (f + 1) * AU_VECTOR_LENGTH));
  return fitMinMax(frames);
}

export async function predictBiLstm(params: BiLstmParams, norm: MinMaxParams, seqs: AuSequence[], maxFrames: number, batchSize = 64): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < seqs.length; i += batchSize) {
    const chunk = seqs.slice(i, i + batchSize);
    const { aus, mask, steps } = padAuSequences(chunk, norm, maxFrames);
    const probs = await biLstmPredict(params, aus, mask, chunk.length, steps);
    chunk.forEach((_, j) => out.push(probs.slice(j * NUM_EMOTIONS, (j + 1) * NUM_EMOTIONS)));
  }
  return out;
}

/**
 * Trains the bi-LSTM + attention with Adam on cross-entropy; after every epoch scores macro-F1 on `val` and keeps
 * the best weights; stops after `patience` epochs without improvement.
 */
export async function trainBiLstm(train: AuSequence[], val: AuSequence[], o: BiLstmTrainOptions = {}): Promise<BiLstmTrained> {
  const tf = await initTf();
  const maxEpochs = o.maxEpochs ?? 300;
  const batchSize = o.batchSize ?? 64;
  const patience = o.patience ?? 30;
  const maxFrames = o.maxFrames ?? 300;
  const norm = fitFrameNormaliser(train);
  const params = await initBiLstm(o.seed ?? 0);
  const vars = biLstmVariables(params);
  const optimizer = tf.train.adam(o.learningRate ?? 1e-3);
  let best: { epoch: number; f1: number; weights: Float32Array[] } = { epoch: -1, f1: -1, weights: [] };
  let seed = (o.seed ?? 0) * 31 + 7;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  let epoch = 0;
  for (; epoch < maxEpochs; epoch++) {
    const order = train.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    for (let i = 0; i < order.length; i += batchSize) {
      const batch = order.slice(i, i + batchSize).map((k) => train[k]);
      const { aus, mask, steps } = padAuSequences(batch, norm, maxFrames);
      tf.tidy(() => {
        const x = tf.tensor3d(aus, [batch.length, steps, AU_VECTOR_LENGTH]);
        const m = tf.tensor2d(mask, [batch.length, steps]);
        const y = tf.oneHot(tf.tensor1d(batch.map((s) => s.label), 'int32'), NUM_EMOTIONS);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, biLstmLogits(tf, params, x, m)) as import('@tensorflow/tfjs').Scalar, false, vars);
      });
    }
    const valPred = (await predictBiLstm(params, norm, val, maxFrames)).map(argmax);
    const f1 = macroF1(val.map((s) => s.label), valPred);
    if (f1 > best.f1) best = { epoch, f1, weights: await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array)) };
    o.log?.(`epoch ${epoch + 1}: val macro-F1 ${f1.toFixed(4)} (best ${best.f1.toFixed(4)} @ ${best.epoch + 1})`);
    if (epoch - best.epoch >= patience) { epoch++; break; }
  }
  vars.forEach((v, i) => v.assign(tf.tensor(best.weights[i], v.shape)));
  optimizer.dispose();
  return { params, normaliser: norm, bestEpoch: best.epoch + 1, bestValF1: best.f1, epochs: epoch };
}

export { disposeBiLstm };
