import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { initTf } from '../../../src/training/tf.js';
import { createNet, initWeights, DEFAULT_NET_CONFIG, type SpeechNetConfig, type WeightMap } from '../../../src/training/speech/net.js';
import { predictWindows } from '../../../src/training/speech/train.js';
import { exportSpeechEnsembleOnnx } from '../../../src/training/speech/onnx-export.js';
import { loadBundleFunctionals, loadBundleWeights, saveSpeechBundle } from '../../../src/training/speech/bundle.js';
import { predictFunctionalModelTf } from '../../../src/training/speech/functional-model.js';
import { combinePosteriors } from '../../../src/training/speech/combine.js';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { softmaxRows } from '../../../src/models/speech/softmax.js';

/** Fixture windows: deterministic normalised-feature-like values (smooth in time and frequency, plus structure). */
function fixtureWindows(n: number, cfg: SpeechNetConfig): Float32Array {
  return Float32Array.from({ length: n * cfg.frames * cfg.melBands }, (_, i) => {
    const b = i % cfg.melBands, t = Math.floor(i / cfg.melBands) % cfg.frames, k = Math.floor(i / (cfg.melBands * cfg.frames));
    return 1.5 * Math.sin(t * 0.07 * (k + 1) + b * 0.3) + 0.5 * Math.cos(b * 0.9 - t * 0.013);
  });
}

/** Largest posterior difference between the ONNX graph (softmax of its logits) and the TF.js members' mean posterior. */
async function maxProbDiff(cfg: SpeechNetConfig, members: WeightMap[], n: number, onnxBytes = exportSpeechEnsembleOnnx(cfg, members)): Promise<number> {
  const tf = await initTf();
  const x = fixtureWindows(n, cfg);
  const tfProbs = new Float32Array(n * 8);
  for (const weights of members) {
    const net = createNet(tf, cfg, weights);
    const p = await predictWindows(tf, net, x, n);
    for (const v of Object.values(net.vars)) v.dispose();
    p.forEach((v, i) => { tfProbs[i] += v / members.length; });
  }
  const runner = await createInProcessRunner(onnxBytes);
  const out = await runner.run({ features: { data: x, dims: [n, cfg.frames, cfg.melBands] } });
  await runner.dispose();
  assert.deepEqual(out.logits.dims, [n, 8]);
  const onnxProbs = softmaxRows(out.logits.data, n, 8);
  let maxDiff = 0;
  onnxProbs.forEach((p, r) => p.forEach((v, c) => { maxDiff = Math.max(maxDiff, Math.abs(v - tfProbs[r * 8 + c])); }));
  return maxDiff;
}

test('ONNX export matches TF.js within 1e-4 (attention pooling, mean+max pooling, layer norm)', async () => {
  const variants: [string, SpeechNetConfig][] = [
    ['attention', DEFAULT_NET_CONFIG],
    ['meanmax', { ...DEFAULT_NET_CONFIG, pooling: 'meanmax' }],
    ['layer norm', { ...DEFAULT_NET_CONFIG, norm: 'layer' }],
  ];
  for (const [name, cfg] of variants) {
    const weights = initWeights(cfg, 11);
    // Non-trivial scale and shift, so a mis-exported normalisation shows.
    for (const [k, w] of Object.entries(weights)) if (/\.(gamma|beta)$/.test(k)) w.data.forEach((_, i) => { w.data[i] = (k.endsWith('gamma') ? 1 : 0) + 0.3 * Math.sin(i + 1); });
    const d = await maxProbDiff(cfg, [weights], 3);
    assert.ok(d < 1e-4, `${name}: max posterior difference ${d}`);
  }
});

test('seed-ensemble export: one graph whose softmax(logits) is the mean of the members\' posteriors, within 1e-4', async () => {
  const members = [3, 4, 5].map((s) => initWeights(DEFAULT_NET_CONFIG, s));
  const d = await maxProbDiff(DEFAULT_NET_CONFIG, members, 4);
  assert.ok(d < 1e-4, `max posterior difference ${d}`);
  // The members really differ, so the test would notice an export that kept only one of them.
  const single = await maxProbDiff(DEFAULT_NET_CONFIG, members, 4, exportSpeechEnsembleOnnx(DEFAULT_NET_CONFIG, [members[0]]));
  assert.ok(single > 1e-3, `members too similar for the test to mean anything (${single})`);
});

test('ensemble bundle: weights of every member saved and read back exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-speech-ens-'));
  try {
    const members = [8, 9].map((s) => initWeights(DEFAULT_NET_CONFIG, s));
    const cfg = saveSpeechBundle(dir, {
      net: DEFAULT_NET_CONFIG, members, mel: DEFAULT_MEL_CONFIG, activityGate: -14,
      prior: { mean: new Float32Array(40).fill(-8), std: new Float32Array(40).fill(2) }, priorWeightFrames: 300,
      windowSamples: 48000, hopSamples: 8000, training: { note: 'random weights for tests' },
    });
    assert.equal((cfg as { ensembleMembers?: number }).ensembleMembers, 2);
    const back = loadBundleWeights(dir);
    assert.equal(back.members.length, 2);
    members.forEach((w, m) => {
      assert.deepEqual(Object.keys(back.members[m]).sort(), Object.keys(w).sort());
      for (const [name, t] of Object.entries(w)) assert.deepEqual(back.members[m][name].data, t.data, `member ${m} ${name}`);
    });
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('shipped model: models/speech ONNX matches its TF.js weights (and functionals models, if combined) within 1e-4', { skip: existsSync('models/speech/weights.bin') ? false : 'models/speech not trained yet' }, async () => {
  const { net, members } = loadBundleWeights('models/speech');
  const functionals = loadBundleFunctionals('models/speech');
  const bytes = new Uint8Array(readFileSync('models/speech/speech-tcn.onnx'));
  if (!functionals) {
    const d = await maxProbDiff(net, members, 4, bytes);
    assert.ok(d < 1e-4, `max posterior difference ${d}`);
    return;
  }
  // Combined bundle: softmax(logits) = the CNN members' and the functionals members' mean posteriors, combined.
  const tf = await initTf();
  const n = 4, D = functionals.members[0].dims;
  const x = fixtureWindows(n, net);
  const z = Float32Array.from({ length: n * D }, (_, i) => functionals.members[0].mean[i % D] + functionals.members[0].std[i % D] * Math.sin(i * 0.37));
  const pc = new Float32Array(n * 8), pf = new Float32Array(n * 8);
  for (const weights of members) {
    const model = createNet(tf, net, weights);
    (await predictWindows(tf, model, x, n)).forEach((v, i) => { pc[i] += v / members.length; });
    for (const v of Object.values(model.vars)) v.dispose();
  }
  for (const m of functionals.members) (await predictFunctionalModelTf(tf, m, z, n)).forEach((v, i) => { pf[i] += v / functionals.members.length; });
  const runner = await createInProcessRunner(bytes);
  const out = await runner.run({ features: { data: x, dims: [n, net.frames, net.melBands] }, functionals: { data: z, dims: [n, D] } });
  await runner.dispose();
  const onnx = softmaxRows(out.logits.data, n, 8);
  let maxDiff = 0;
  for (let r = 0; r < n; r++) {
    const expected = combinePosteriors(pc.subarray(r * 8, r * 8 + 8), pf.subarray(r * 8, r * 8 + 8), functionals.weightCnn);
    onnx[r].forEach((v, c) => { maxDiff = Math.max(maxDiff, Math.abs(v - expected[c])); });
  }
  assert.ok(maxDiff < 1e-4, `max posterior difference ${maxDiff}`);
});
