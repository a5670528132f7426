import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { initTf } from '../../src/training/tf.js';
import { createNet, initWeights, DEFAULT_NET_CONFIG, type SpeechNetConfig, type WeightMap } from '../../src/training/speech/net.js';
import { predictWindows } from '../../src/training/speech/train.js';
import { exportSpeechNetOnnx } from '../../src/training/speech/onnx-export.js';
import { loadBundleWeights } from '../../src/training/speech/bundle.js';
import { createInProcessRunner } from '../../src/models/onnx-runner-inprocess.js';
import { softmaxRows } from '../../src/models/speech/softmax.js';

/** Fixture windows: deterministic normalised-feature-like values (smooth in time and frequency, plus structure). */
function fixtureWindows(n: number, cfg: SpeechNetConfig): Float32Array {
  return Float32Array.from({ length: n * cfg.frames * cfg.melBands }, (_, i) => {
    const b = i % cfg.melBands, t = Math.floor(i / cfg.melBands) % cfg.frames, k = Math.floor(i / (cfg.melBands * cfg.frames));
    return 1.5 * Math.sin(t * 0.07 * (k + 1) + b * 0.3) + 0.5 * Math.cos(b * 0.9 - t * 0.013);
  });
}

async function maxProbDiff(cfg: SpeechNetConfig, weights: WeightMap, n: number): Promise<number> {
  const tf = await initTf();
  const net = createNet(tf, cfg, weights);
  const x = fixtureWindows(n, cfg);
  const tfProbs = await predictWindows(tf, net, x, n);
  for (const v of Object.values(net.vars)) v.dispose();
  const runner = await createInProcessRunner(exportSpeechNetOnnx(cfg, weights));
  const out = await runner.run({ features: { data: x, dims: [n, cfg.frames, cfg.melBands] } });
  await runner.dispose();
  assert.deepEqual(out.logits.dims, [n, 8]);
  const onnxProbs = softmaxRows(out.logits.data, n, 8);
  let maxDiff = 0;
  onnxProbs.forEach((p, r) => p.forEach((v, c) => { maxDiff = Math.max(maxDiff, Math.abs(v - tfProbs[r * 8 + c])); }));
  return maxDiff;
}

test('ONNX export matches TF.js within 1e-4 (attention pooling and mean+max pooling)', async () => {
  for (const pooling of ['attention', 'meanmax'] as const) {
    const cfg = { ...DEFAULT_NET_CONFIG, pooling };
    const d = await maxProbDiff(cfg, initWeights(cfg, 11), 3);
    assert.ok(d < 1e-4, `${pooling}: max posterior difference ${d}`);
  }
});

test('shipped model: models/speech ONNX matches its TF.js weights within 1e-4', { skip: existsSync('models/speech/weights.bin') ? false : 'models/speech not trained yet' }, async () => {
  const { net, weights } = loadBundleWeights('models/speech');
  const d = await maxProbDiff(net, weights, 4);
  assert.ok(d < 1e-4, `max posterior difference ${d}`);
});
