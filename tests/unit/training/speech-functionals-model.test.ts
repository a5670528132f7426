import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf } from '../../../src/training/tf.js';
import { createNet, initWeights, DEFAULT_NET_CONFIG, type WeightMap } from '../../../src/training/speech/net.js';
import { predictWindows } from '../../../src/training/speech/train.js';
import { exportSpeechCombinedOnnx } from '../../../src/training/speech/onnx-export.js';
import { loadBundleFunctionals, loadBundleWeights, saveSpeechBundle } from '../../../src/training/speech/bundle.js';
import { trainFunctionalModel, predictFunctionalModel, predictFunctionalModelTf, widenFunctionalModel, DEFAULT_FUNCTIONAL_MODEL, type FunctionalModel } from '../../../src/training/speech/functional-model.js';
import { chooseWeight, combinePosteriors } from '../../../src/training/speech/combine.js';
import { FUNCTIONAL_COUNT, rawFunctionalCount } from '../../../src/features/functionals.js';
import { DEFAULT_PITCH_CONFIG } from '../../../src/features/pitch.js';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { softmaxRows } from '../../../src/models/speech/softmax.js';
import { loadSpeechModel } from '../../../src/models/speech/index.js';
import { parseSpeechModelConfig } from '../../../src/models/speech/config.js';

const D = FUNCTIONAL_COUNT;
const cfg = DEFAULT_NET_CONFIG;

function fixtureWindows(n: number): Float32Array {
  return Float32Array.from({ length: n * cfg.frames * cfg.melBands }, (_, i) => {
    const b = i % cfg.melBands, t = Math.floor(i / cfg.melBands) % cfg.frames, k = Math.floor(i / (cfg.melBands * cfg.frames));
    return 1.5 * Math.sin(t * 0.07 * (k + 1) + b * 0.3) + 0.5 * Math.cos(b * 0.9 - t * 0.013);
  });
}

/** Separable fixture data: class c shifts feature c % D up, so a trained model's posteriors are far from uniform. */
function fixtureFunctionals(n: number, seed = 3, dims = D): { x: Float32Array; y: Int32Array } {
  const r = (i: number) => { const v = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453; return v - Math.floor(v) - 0.5; };
  const y = Int32Array.from({ length: n }, (_, i) => i % 8);
  const x = Float32Array.from({ length: n * dims }, (_, i) => r(i) + 10 + (i % dims === y[Math.floor(i / dims)] ? 4 : 0));
  return { x, y };
}

async function trainedMembers(hidden: number, seeds: number[], epochs = 3, dims = D): Promise<FunctionalModel[]> {
  const tf = await initTf();
  const { x, y } = fixtureFunctionals(160, 3, dims);
  const out: FunctionalModel[] = [];
  // Few rows: small batches and a larger step so 160 rows give enough Adam steps (the real data has ~20k crops).
  for (const seed of seeds) out.push(await trainFunctionalModel(tf, x, y, 160, dims, { ...DEFAULT_FUNCTIONAL_MODEL, hidden, epochs, batchSize: 16, learningRate: 1e-2, seed }));
  return out;
}

test('functionals MLP: learns separable fixture data; plain-JS prediction equals TF.js ops within 1e-5; deterministic per seed', async () => {
  const tf = await initTf();
  const [m] = await trainedMembers(32, [5], 30);
  const { x, y } = fixtureFunctionals(40, 9);
  const js = predictFunctionalModel(m, x, 40);
  const ref = await predictFunctionalModelTf(tf, m, x, 40);
  let maxDiff = 0, hits = 0;
  js.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - ref[i])); });
  for (let i = 0; i < 40; i++) if (js.subarray(i * 8, i * 8 + 8).indexOf(Math.max(...js.subarray(i * 8, i * 8 + 8))) === y[i]) hits++;
  assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
  assert.ok(hits >= 30, `${hits} / 40 held-out fixture rows right`);
  const [again] = await trainedMembers(32, [5], 30);
  assert.deepEqual(again.w1, m.w1);
});

test('combination: weighted mean of log-posteriors, renormalised; w = 1 / 0 give either model; weight chosen by accuracy', () => {
  const a = Float32Array.from([0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.01, 0.01]);
  const b = Float32Array.from([0.01, 0.6, 0.1, 0.1, 0.1, 0.05, 0.03, 0.01]);
  const close = (p: Float32Array, q: ArrayLike<number>) => p.every((v, i) => Math.abs(v - q[i]) < 1e-6);
  assert.ok(close(combinePosteriors(a, b, 1), a) && close(combinePosteriors(a, b, 0), b));
  const mid = combinePosteriors(a, b, 0.5);
  assert.ok(Math.abs(mid.reduce((s, v) => s + v, 0) - 1) < 1e-6);
  assert.ok(Math.abs(mid[0] / mid[1] - Math.sqrt((0.5 * 0.01) / (0.2 * 0.6))) < 1e-5);
  // Truth = class 1 everywhere: only the second model is right, so the chosen CNN weight is small.
  assert.ok(chooseWeight([1, 1], [a, a], [b, b]) < 0.5);
  assert.equal(chooseWeight([0, 0], [a, a], [b, b]), 1);
});

test('combined ONNX export (CNN ensemble + functionals ensemble, two inputs) matches TF.js / JS within 1e-4', async () => {
  const tf = await initTf();
  const cnnMembers: WeightMap[] = [3, 4].map((s) => initWeights(cfg, s));
  const fMembers = [...await trainedMembers(32, [1, 2]), ...await trainedMembers(0, [3])];
  const n = 3, w = 0.6;
  const x = fixtureWindows(n);
  const { x: z } = fixtureFunctionals(n, 11);
  const pc = new Float32Array(n * 8), pf = new Float32Array(n * 8);
  for (const weights of cnnMembers) {
    const net = createNet(tf, cfg, weights);
    (await predictWindows(tf, net, x, n)).forEach((v, i) => { pc[i] += v / cnnMembers.length; });
    for (const v of Object.values(net.vars)) v.dispose();
  }
  for (const m of fMembers) (await predictFunctionalModelTf(tf, m, z, n)).forEach((v, i) => { pf[i] += v / fMembers.length; });
  const runner = await createInProcessRunner(exportSpeechCombinedOnnx(cfg, cnnMembers, { members: fMembers, weightCnn: w }));
  const out = await runner.run({ features: { data: x, dims: [n, cfg.frames, cfg.melBands] }, functionals: { data: z, dims: [n, D] } });
  await runner.dispose();
  const onnx = softmaxRows(out.logits.data, n, 8);
  let maxDiff = 0, fromCnn = 0;
  for (let r = 0; r < n; r++) {
    const expected = combinePosteriors(pc.subarray(r * 8, r * 8 + 8), pf.subarray(r * 8, r * 8 + 8), w);
    onnx[r].forEach((v, c) => { maxDiff = Math.max(maxDiff, Math.abs(v - expected[c])); fromCnn = Math.max(fromCnn, Math.abs(v - pc[r * 8 + c])); });
  }
  assert.ok(maxDiff < 1e-4, `max posterior difference ${maxDiff}`);
  assert.ok(fromCnn > 1e-3, 'the functionals model must change the output, or the test means nothing');
});

test('combined bundle: model.json contract, weights read back exactly; the server streams both inputs and softmaxes the combination', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-speech-comb-'));
  try {
    const cnnMembers = [8, 9].map((s) => initWeights(cfg, s));
    const fMembers = await trainedMembers(16, [4, 5]);
    const saved = saveSpeechBundle(dir, {
      net: cfg, members: cnnMembers, mel: DEFAULT_MEL_CONFIG, activityGate: -14,
      prior: { mean: new Float32Array(40).fill(-8), std: new Float32Array(40).fill(2) }, priorWeightFrames: 300,
      windowSamples: 48000, hopSamples: 8000,
      functionals: { members: fMembers, weightCnn: 0.55, pitch: DEFAULT_PITCH_CONFIG, pitchPriorLog2Hz: Math.log2(160), pitchPriorWeightFrames: 150 },
      training: { note: 'random / fixture weights for tests' },
    });
    assert.equal(saved.functionals?.inputName, 'functionals');
    assert.equal(saved.functionals?.count, D);
    const back = loadBundleFunctionals(dir)!;
    assert.equal(back.weightCnn, 0.55);
    back.members.forEach((m, i) => { for (const k of ['mean', 'std', 'w1', 'b1', 'w2', 'b2'] as const) assert.deepEqual(m[k], fMembers[i][k]); });
    assert.equal(loadBundleWeights(dir).members.length, 2);

    const model = await loadSpeechModel({ dir, runnerFactory: (p) => createInProcessRunner(p) });
    assert.equal(model.status().available, true, model.status().error);
    assert.match(String(model.status().details?.functionalsInput), /\[batch, 137\]/);
    const s = model.createStream();
    s.push(Float32Array.from({ length: 48000 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 180 * i) / 16000) + 0.1 * Math.sin((2 * Math.PI * 360 * i) / 16000)));
    const win = s.window(48000, 48000)!;
    assert.ok(win.kind === 'features' && win.functionals?.length === D);
    const [p] = await model.inferBatch([win]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b) - 1) < 1e-5 && p.every(Number.isFinite));
    // The same posterior by hand from the bundle's parts.
    const tf = await initTf();
    const pc = new Float32Array(8);
    for (const weights of cnnMembers) {
      const net = createNet(tf, cfg, weights);
      (await predictWindows(tf, net, win.features, 1)).forEach((v, i) => { pc[i] += v / 2; });
      for (const v of Object.values(net.vars)) v.dispose();
    }
    const pf = new Float32Array(8);
    for (const m of fMembers) predictFunctionalModel(m, win.functionals!, 1).forEach((v, i) => { pf[i] += v / 2; });
    const expected = combinePosteriors(pc, pf, 0.55);
    p.forEach((v, c) => assert.ok(Math.abs(v - expected[c]) < 1e-4, `class ${c}: ${v} vs ${expected[c]}`));
    // A window without functionals (e.g. from a CNN-only stream) is rejected with a clear error.
    await assert.rejects(model.inferBatch([{ ...win, functionals: undefined }]), /expected 137 window functionals/);
    await model.dispose();
    // A config whose functionals count differs from what this server computes is refused at load.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.functionals.count = 12;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const bad = await loadSpeechModel({ dir, runnerFactory: (p2) => createInProcessRunner(p2) });
    assert.match(bad.status().error ?? '', /functionals\.count 12/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('speaker-normalised functionals bundle: count 2 x 137 with the normaliser prior in model.json; the server streams [raw, z] and matches the JS combination', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-speech-spk-'));
  try {
    const cnnMembers = [8].map((s) => initWeights(cfg, s));
    const fMembers = await trainedMembers(16, [4], 3, 2 * D);
    const prior = { mean: Float32Array.from({ length: D }, (_, d) => Math.sin(d)), std: Float32Array.from({ length: D }, (_, d) => 1 + (d % 5) / 10) };
    const pitchPart = { pitch: DEFAULT_PITCH_CONFIG, pitchPriorLog2Hz: Math.log2(160), pitchPriorWeightFrames: 150 };
    const bundle = {
      net: cfg, members: cnnMembers, mel: DEFAULT_MEL_CONFIG, activityGate: -14,
      prior: { mean: new Float32Array(40).fill(-8), std: new Float32Array(40).fill(2) }, priorWeightFrames: 300,
      windowSamples: 48000, hopSamples: 8000, training: { note: 'random / fixture weights for tests' },
    };
    // Members of the wrong width for the declared input are refused before anything is written.
    assert.throws(() => saveSpeechBundle(dir, { ...bundle, functionals: { members: fMembers, weightCnn: 0.5, ...pitchPart } }), /must take 137 inputs/);
    const saved = saveSpeechBundle(dir, { ...bundle, functionals: { members: fMembers, weightCnn: 0.5, ...pitchPart, speakerNorm: { prior, weightWindows: 20, keepRaw: true } } });
    assert.equal(saved.functionals?.count, 2 * D);
    assert.equal(saved.functionals?.speakerNorm?.weightWindows, 20);
    assert.deepEqual(saved.functionals?.speakerNorm?.mean, Array.from(prior.mean));

    const model = await loadSpeechModel({ dir, runnerFactory: (p) => createInProcessRunner(p) });
    assert.equal(model.status().available, true, model.status().error);
    assert.match(String(model.status().details?.functionalsInput), /\[batch, 274\].*z-scored per speaker/);
    const s = model.createStream();
    s.push(Float32Array.from({ length: 48000 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 180 * i) / 16000) + 0.1 * Math.sin((2 * Math.PI * 360 * i) / 16000)));
    const win = s.window(48000, 48000)!;
    assert.ok(win.kind === 'features' && win.functionals?.length === 2 * D);
    // One window seen: the running statistics are the prior (20 windows) plus this window.
    const raw = win.functionals!.subarray(0, D);
    for (const d of [0, 50, 130]) {
      const mean = (20 * prior.mean[d] + raw[d]) / 21;
      const varc = (20 * prior.std[d] ** 2 + (20 / 21) * (raw[d] - prior.mean[d]) ** 2) / 21;
      const z = (raw[d] - mean) / Math.max(1e-3, Math.sqrt(varc));
      assert.ok(Math.abs(win.functionals![D + d] - z) < 1e-4, `functional ${d}: ${win.functionals![D + d]} vs ${z}`);
    }
    const [p] = await model.inferBatch([win]);
    const tf = await initTf();
    const net = createNet(tf, cfg, cnnMembers[0]);
    const pc = await predictWindows(tf, net, win.features, 1);
    for (const v of Object.values(net.vars)) v.dispose();
    const expected = combinePosteriors(pc, predictFunctionalModel(fMembers[0], win.functionals!, 1), 0.5);
    p.forEach((v, c) => assert.ok(Math.abs(v - expected[c]) < 1e-4, `class ${c}: ${v} vs ${expected[c]}`));
    await assert.rejects(model.inferBatch([{ ...win, functionals: win.functionals!.slice(0, D) }]), /expected 274 window functionals/);
    await model.dispose();
    // model.json whose count does not match its speakerNorm section is refused at load.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.functionals.count = D;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const bad = await loadSpeechModel({ dir, runnerFactory: (p2) => createInProcessRunner(p2) });
    assert.match(bad.status().error ?? '', /functionals\.count 137, this server computes 274 window functionals \(raw and speaker-normalised\)/);
    // The normalised functionals alone (keepRaw false): count 137 with a speakerNorm section; a 274-wide graph is refused.
    json.functionals.speakerNorm.keepRaw = false;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const zOnly = await loadSpeechModel({ dir, runnerFactory: (p2) => createInProcessRunner(p2) });
    assert.match(zOnly.status().error ?? '', /functionals input/);
    // A speakerNorm prior of the wrong length is refused.
    json.functionals.speakerNorm.mean = [0];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const badPrior = await loadSpeechModel({ dir, runnerFactory: (p2) => createInProcessRunner(p2) });
    assert.match(badPrior.status().error ?? '', /speakerNorm must hold 137 means/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('spectro-temporal functionals bundle: voice quality + spectro-temporal, z-scored only (171 values); the flag in model.json sets the count the server computes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-speech-st-'));
  try {
    const R = rawFunctionalCount(true, true);
    assert.equal(R, 171);
    const cnnMembers = [8].map((s) => initWeights(cfg, s));
    const fMembers = await trainedMembers(16, [4], 3, R);
    const prior = { mean: Float32Array.from({ length: R }, (_, d) => Math.sin(d)), std: Float32Array.from({ length: R }, (_, d) => 1 + (d % 5) / 10) };
    const bundle = {
      net: cfg, members: cnnMembers, mel: DEFAULT_MEL_CONFIG, activityGate: -14,
      prior: { mean: new Float32Array(40).fill(-8), std: new Float32Array(40).fill(2) }, priorWeightFrames: 300,
      windowSamples: 48000, hopSamples: 8000, training: { note: 'random / fixture weights for tests' },
    };
    const f = { members: fMembers, weightCnn: 0.4, pitch: DEFAULT_PITCH_CONFIG, pitchPriorLog2Hz: Math.log2(160), pitchPriorWeightFrames: 150, voiceQuality: true, speakerNorm: { prior, weightWindows: 20, keepRaw: false } };
    // Without the flag the same members are the wrong width (143 expected).
    assert.throws(() => saveSpeechBundle(dir, { ...bundle, functionals: f }), /must take 143 inputs/);
    const saved = saveSpeechBundle(dir, { ...bundle, functionals: { ...f, spectroTemporal: true } });
    assert.equal(saved.functionals?.count, R);
    assert.equal(saved.functionals?.spectroTemporal, true);
    const model = await loadSpeechModel({ dir, runnerFactory: (p) => createInProcessRunner(p) });
    assert.equal(model.status().available, true, model.status().error);
    assert.match(String(model.status().details?.functionalsInput), /\[batch, 171\].*voice quality, spectro-temporal; z-scored per speaker/);
    const s = model.createStream();
    s.push(Float32Array.from({ length: 48000 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 180 * i) / 16000) * (1 + 0.5 * Math.sin((2 * Math.PI * 4 * i) / 16000))));
    const win = s.window(48000, 48000)!;
    assert.ok(win.kind === 'features' && win.functionals?.length === R && win.functionals.every(Number.isFinite));
    const [p] = await model.inferBatch([win]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b) - 1) < 1e-5 && p.every(Number.isFinite));
    await model.dispose();
    // An older model.json (no spectroTemporal flag) of this width is refused with the count the server would compute.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    delete json.functionals.spectroTemporal;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const bad = await loadSpeechModel({ dir, runnerFactory: (p2) => createInProcessRunner(p2) });
    assert.match(bad.status().error ?? '', /functionals\.count 171, this server computes 143 window functionals/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('mixed-input ensemble: a member on the first 137 functionals, widened to 171 inputs, gives the narrow model\'s posteriors whatever the extra inputs hold', async () => {
  const [narrow] = await trainedMembers(16, [6], 3, D);
  assert.throws(() => widenFunctionalModel(narrow, D - 1), /cannot be narrowed/);
  assert.equal(widenFunctionalModel(narrow, D), narrow);
  const W = 171, wide = widenFunctionalModel(narrow, W);
  assert.equal(wide.dims, W);
  const { x } = fixtureFunctionals(12, 5, D);
  const xw = new Float32Array(12 * W);
  for (let i = 0; i < 12; i++) { xw.set(x.subarray(i * D, (i + 1) * D), i * W); for (let d = D; d < W; d++) xw[i * W + d] = 1e3 * Math.sin(i + d); }
  const a = predictFunctionalModel(narrow, x, 12), b = predictFunctionalModel(wide, xw, 12);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `${i}: ${v} vs ${b[i]}`));
});

test('model.json functionals flags: a bundle without the later groups keeps its count (old bundles load), shape and spectro-temporal add theirs', () => {
  const base = JSON.parse(readFileSync(join('models', 'speech', 'model.json'), 'utf8'));
  // Whatever groups the shipped bundle carries, start from none.
  const { voiceQuality: _vq, spectroTemporal: _st, shape: _sh, ...f } = base.functionals;
  const raw = (vq: boolean, st: boolean, sh: boolean) => rawFunctionalCount(vq, st, sh);
  const withFlags = (flags: Record<string, boolean>, count: number, normLen = count) => ({
    ...base, functionals: { ...f, ...flags, count, ...(f.speakerNorm ? { speakerNorm: { ...f.speakerNorm, keepRaw: false, mean: new Array(normLen).fill(0), std: new Array(normLen).fill(1) } } : {}) },
  });
  assert.equal(raw(true, false, false), 143);
  assert.equal(raw(true, false, true), 158);
  assert.doesNotThrow(() => parseSpeechModelConfig(withFlags({ voiceQuality: true }, 143)));
  assert.doesNotThrow(() => parseSpeechModelConfig(withFlags({ voiceQuality: true, shape: true }, 158)));
  assert.doesNotThrow(() => parseSpeechModelConfig(withFlags({ voiceQuality: true, spectroTemporal: true, shape: true }, 186)));
  assert.throws(() => parseSpeechModelConfig(withFlags({ voiceQuality: true }, 158)), /functionals\.count 158, this server computes 143/);
  assert.throws(() => parseSpeechModelConfig(withFlags({ voiceQuality: true, shape: true }, 158, 143)), /speakerNorm must hold 158 means/);
});
