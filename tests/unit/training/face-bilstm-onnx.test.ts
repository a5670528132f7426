import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf } from '../../../src/training/tf.js';
import { initBiLstm, biLstmPredict, biLstmWeights, biLstmLogits, biLstmVariables, disposeBiLstm, BILSTM_LAYERS, BILSTM_UNITS } from '../../../src/training/face/bilstm.js';
import { exportBiLstmOnnx, SEQ_INPUT, SEQ_MASK, SEQ_OUTPUT } from '../../../src/training/face/export-bilstm-onnx.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { rng } from '../../../src/training/random.js';

const D = 35;

/** Random post-padded batch: lengths as given, padding filled with garbage that masking must ignore. */
function batchOf(lengths: number[], seed: number) {
  const rand = rng(seed);
  const steps = Math.max(...lengths);
  const aus = new Float32Array(lengths.length * steps * D);
  const mask = new Float32Array(lengths.length * steps);
  lengths.forEach((len, b) => {
    for (let t = 0; t < steps; t++) {
      for (let j = 0; j < D; j++) aus[(b * steps + t) * D + j] = t < len ? rand() : 7 * rand() - 3;
      mask[b * steps + t] = t < len ? 1 : 0;
    }
  });
  return { aus, mask, steps };
}

test('bi-LSTM + attention: ONNX (LSTM op, bidirectional, sequence_lens) matches TensorFlow.js within 1e-4 on random weights, variable lengths', async () => {
  const params = await initBiLstm(3);
  const onnx = exportBiLstmOnnx(await biLstmWeights(params), BILSTM_LAYERS, BILSTM_UNITS);
  const runner = await createInProcessRunner(onnx);
  try {
    const lengths = [12, 5, 1, 9];
    const { aus, mask, steps } = batchOf(lengths, 11);
    const tfProbs = await biLstmPredict(params, aus, mask, lengths.length, steps);
    const res = await runner.run({ [SEQ_INPUT]: { data: aus, dims: [lengths.length, steps, D] }, [SEQ_MASK]: { data: mask, dims: [lengths.length, steps] } });
    const onnxProbs = res[SEQ_OUTPUT].data;
    assert.deepEqual(res[SEQ_OUTPUT].dims, [lengths.length, 8]);
    let maxDiff = 0;
    for (let i = 0; i < tfProbs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tfProbs[i] - onnxProbs[i]));
    assert.ok(maxDiff < 1e-4, `max |tfjs - onnx| = ${maxDiff}`);
    // Masking: a sequence alone (no padding) gives the same posterior as inside the padded batch.
    const one = batchOf([5], 99);
    const idx = 1;
    for (let t = 0; t < 5; t++) one.aus.set(aus.subarray((idx * steps + t) * D, (idx * steps + t + 1) * D), t * D);
    const alone = await runner.run({ [SEQ_INPUT]: { data: one.aus, dims: [1, 5, D] }, [SEQ_MASK]: { data: one.mask, dims: [1, 5] } });
    for (let k = 0; k < 8; k++) assert.ok(Math.abs(alone[SEQ_OUTPUT].data[k] - onnxProbs[idx * 8 + k]) < 1e-5);
  } finally {
    await runner.dispose();
    disposeBiLstm(params);
  }
});

test('bi-LSTM gradients on the wasm backend match finite differences', async () => {
  const tf = await initTf();
  const params = await initBiLstm(5);
  try {
    const { aus, mask, steps } = batchOf([4, 2], 3);
    const x = tf.tensor3d(aus, [2, steps, D]);
    const m = tf.tensor2d(mask, [2, steps]);
    const y = tf.oneHot(tf.tensor1d([2, 6], 'int32'), 8);
    const loss = () => tf.losses.softmaxCrossEntropy(y, biLstmLogits(tf, params, x, m)) as import('@tensorflow/tfjs').Scalar;
    const vars = biLstmVariables(params);
    const { grads } = tf.variableGrads(loss, vars);
    // Check a few coordinates of the first layer's input weights and of the output layer.
    for (const [v, index] of [[params.layers[0].fw.wx, 17], [params.layers[0].bw.wh, 33], [params.outW, 5]] as const) {
      const g = (await grads[v.name].data())[index];
      const orig = (await v.data()).slice();
      const eps = 1e-2;
      const at = async (delta: number) => {
        const d = orig.slice();
        d[index] += delta;
        v.assign(tf.tensor(d, v.shape));
        const l = loss();
        const val = (await l.data())[0];
        l.dispose();
        return val;
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      v.assign(tf.tensor(orig, v.shape));
      assert.ok(Math.abs(g - numeric) < 2e-3 + 0.05 * Math.abs(numeric), `${v.name}[${index}]: analytic ${g} vs numeric ${numeric}`);
      assert.ok(Number.isFinite(g));
    }
    Object.values(grads).forEach((t) => t.dispose());
  } finally {
    disposeBiLstm(params);
  }
});
