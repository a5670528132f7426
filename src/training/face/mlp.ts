import { initTf } from '../tf.js';
import { NUM_EMOTIONS } from '../../protocol/labels.js';

export interface MlpOptions {
  hidden: number[];
  seed?: number;
  /** scikit-learn MLPClassifier defaults: adam lr 1e-3, batch min(200, n), <= 200 epochs, alpha 1e-4. */
  maxEpochs?: number;
  batchSize?: number;
  learningRate?: number;
  alpha?: number;
  /** Stop when the training loss has not improved by `tol` for `patience` epochs (scikit-learn's n_iter_no_change). */
  tol?: number;
  patience?: number;
}

/** Dense layer weights, row-major W [in, out] and bias [out]; ReLU on every layer but the softmax output. */
export interface DenseLayer {
  w: number[];
  inDim: number;
  outDim: number;
  b: number[];
}

export interface MlpFit {
  layers: DenseLayer[];
  epochs: number;
  finalLoss: number;
  predictProba(x: ArrayLike<number>[]): Promise<Float32Array[]>;
  dispose(): void;
}

/** Trains a ReLU MLP with a softmax output in TensorFlow.js, the way scikit-learn's MLPClassifier does by default. */
export async function trainMlp(x: ArrayLike<number>[], y: number[], opts: MlpOptions): Promise<MlpFit> {
  const tf = await initTf();
  const n = x.length;
  const d = x[0].length;
  const batchSize = opts.batchSize ?? Math.min(200, n);
  const alpha = opts.alpha ?? 1e-4;
  const seed = opts.seed ?? 0;
  const model = tf.sequential();
  // scikit-learn's penalty is 0.5 * alpha * ||W||^2 / batch; tfjs's l2 adds l2 * ||W||^2.
  const l2 = 0.5 * alpha / batchSize;
  opts.hidden.forEach((units, i) => model.add(tf.layers.dense({
    units, activation: 'relu', inputShape: i === 0 ? [d] : undefined,
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + i }),
    kernelRegularizer: tf.regularizers.l2({ l2 }),
  })));
  model.add(tf.layers.dense({
    units: NUM_EMOTIONS, activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + 99 }),
    kernelRegularizer: tf.regularizers.l2({ l2 }),
  }));
  model.compile({ optimizer: tf.train.adam(opts.learningRate ?? 1e-3), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.tensor2d(x.map((r) => Array.from(r)), [n, d]);
  const ys = tf.tensor1d(y, 'float32');
  const tol = opts.tol ?? 1e-4;
  const patience = opts.patience ?? 10;
  let best = Infinity;
  let noImprove = 0;
  let epochs = 0;
  let finalLoss = NaN;
  // Seeded shuffling (tfjs's own uses Math.random) so a run is reproducible from --seed.
  let state = (seed * 2654435761 + 1) >>> 0;
  const rand = () => { state = (Math.imul(state, 1664525) + 1013904223) >>> 0; return state / 4294967296; };
  const maxEpochs = opts.maxEpochs ?? 200;
  for (let epoch = 0; epoch < maxEpochs; epoch++) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    const idx = tf.tensor1d(order, 'int32');
    const xe = tf.gather(xs, idx);
    const ye = tf.gather(ys, idx);
    const h = await model.fit(xe, ye, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
    tf.dispose([idx, xe, ye]);
    epochs++;
    finalLoss = Number(h.history.loss[0]);
    if (finalLoss > best - tol) noImprove++;
    else noImprove = 0;
    if (finalLoss < best) best = finalLoss;
    if (noImprove >= patience) break;
  }
  xs.dispose();
  ys.dispose();
  const layers: DenseLayer[] = [];
  for (const layer of model.layers) {
    const [w, b] = layer.getWeights();
    layers.push({ w: Array.from(w.dataSync()), inDim: w.shape[0], outDim: Number(w.shape[1]), b: Array.from(b.dataSync()) });
  }
  return {
    layers, epochs, finalLoss,
    async predictProba(q) {
      const t = tf.tensor2d(q.map((r) => Array.from(r)), [q.length, d]);
      const out = model.predict(t) as import('@tensorflow/tfjs').Tensor;
      const data = await out.data();
      t.dispose();
      out.dispose();
      return Array.from({ length: q.length }, (_, i) => Float32Array.from(data.subarray(i * NUM_EMOTIONS, (i + 1) * NUM_EMOTIONS)));
    },
    dispose: () => model.dispose(),
  };
}
