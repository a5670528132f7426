import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFaceModel, meanAus } from '../../../src/models/face/index.js';
import { FACE_MANIFEST_FORMAT, type FaceManifest } from '../../../src/models/face/manifest.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { exportMlpOnnx, STATIC_INPUT, STATIC_OUTPUT } from '../../../src/training/face/export-onnx.js';
import { exportBiLstmOnnx, SEQ_INPUT, SEQ_MASK, SEQ_OUTPUT } from '../../../src/training/face/export-bilstm-onnx.js';
import { initBiLstm, biLstmWeights, biLstmPredict, disposeBiLstm, BILSTM_LAYERS, BILSTM_UNITS } from '../../../src/training/face/bilstm.js';
import type { DenseLayer } from '../../../src/training/face/mlp.js';
import { AU_COLUMNS, EMOTIONS } from '../../../src/protocol/labels.js';
import { hasShared } from '../../../src/training/ravdess.js';
import { loadClipMeanAus } from '../../../src/training/face/au-data.js';
import { rng } from '../../../src/training/random.js';

const factory = (p: string) => createInProcessRunner(p);

function randomLayers(seed: number): DenseLayer[] {
  const rand = rng(seed);
  const layer = (inDim: number, outDim: number): DenseLayer => ({
    inDim, outDim, w: Array.from({ length: inDim * outDim }, () => rand() - 0.5), b: Array.from({ length: outDim }, () => rand() - 0.5),
  });
  return [layer(35, 6), layer(6, 8)];
}

/** Reference forward pass of the exported MLP in plain JS. */
function mlpForward(layers: DenseLayer[], x: number[]): number[] {
  let h = x;
  layers.forEach((l, i) => {
    const out = l.b.slice();
    for (let o = 0; o < l.outDim; o++) for (let j = 0; j < l.inDim; j++) out[o] += h[j] * l.w[j * l.outDim + o];
    h = i < layers.length - 1 ? out.map((v) => Math.max(0, v)) : out;
  });
  const m = Math.max(...h);
  const e = h.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function writeModelDir(layers: DenseLayer[], sequence: FaceManifest['sequence'] = null, seqOnnx?: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'face-model-'));
  writeFileSync(join(dir, 'static.onnx'), exportMlpOnnx(layers));
  writeFileSync(join(dir, 'normaliser.json'), JSON.stringify({ min: new Array(35).fill(0), max: new Array(35).fill(2) }));
  if (seqOnnx) writeFileSync(join(dir, 'seq.onnx'), seqOnnx);
  const manifest: FaceManifest = {
    format: FACE_MANIFEST_FORMAT, labels: [...EMOTIONS], auColumns: [...AU_COLUMNS],
    static: { onnx: 'static.onnx', normaliser: 'normaliser.json', input: STATIC_INPUT, output: STATIC_OUTPUT, spec: 'test' }, sequence,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
  return dir;
}

test('static face model: mean AUs over the window -> min-max -> MLP, batched; empty window gets a uniform posterior', async () => {
  const layers = randomLayers(1);
  const model = await loadFaceModel({ dir: writeModelDir(layers), runnerFactory: factory });
  assert.equal(model.status().available, true, model.status().error);
  const rand = rng(2);
  const frames = 3;
  const aus = Float32Array.from({ length: frames * 35 }, () => 2 * rand());
  const [p, empty] = await model.inferBatch([{ aus, frames }, { aus: new Float32Array(0), frames: 0 }]);
  const mean = meanAus({ aus, frames });
  const expected = mlpForward(layers, Array.from(mean, (v) => v / 2));
  for (let k = 0; k < 8; k++) assert.ok(Math.abs(p[k] - expected[k]) < 1e-5);
  assert.deepEqual(Array.from(empty), new Array(8).fill(1 / 8));
  await assert.rejects(model.inferBatch([{ aus: new Float32Array(34), frames: 1 }]), /face window 0: 34 AU values for 1 frames/);
  const nan = new Float32Array(70);
  nan[40] = NaN;
  await assert.rejects(model.inferBatch([{ aus, frames }, { aus: nan, frames: 2 }]), /face window 1: frame 1 column AU07_r is not finite/);
  await model.dispose();
});

test('sequence face model, when the manifest has one, runs the bi-LSTM on the frames with masking', async () => {
  const params = await initBiLstm(4);
  const onnx = exportBiLstmOnnx(await biLstmWeights(params), BILSTM_LAYERS, BILSTM_UNITS);
  const dir = writeModelDir(randomLayers(1), { onnx: 'seq.onnx', normaliser: 'normaliser.json', input: SEQ_INPUT, mask: SEQ_MASK, output: SEQ_OUTPUT, maxFrames: 64 }, onnx);
  const model = await loadFaceModel({ dir, runnerFactory: factory });
  assert.match(String(model.status().details?.mode), /^sequence/);
  const rand = rng(5);
  const a = Float32Array.from({ length: 4 * 35 }, () => 2 * rand());
  const b = Float32Array.from({ length: 7 * 35 }, () => 2 * rand());
  const [pa, pb] = await model.inferBatch([{ aus: a, frames: 4 }, { aus: b, frames: 7 }]);
  const ref = await biLstmPredict(params, a.map((v) => v / 2), new Float32Array(4).fill(1), 1, 4);
  for (let k = 0; k < 8; k++) assert.ok(Math.abs(pa[k] - ref[k]) < 1e-4);
  const refB = await biLstmPredict(params, b.map((v) => v / 2), new Float32Array(7).fill(1), 1, 7);
  for (let k = 0; k < 8; k++) assert.ok(Math.abs(pb[k] - refB[k]) < 1e-4);
  disposeBiLstm(params);
  await model.dispose();
});

test('loadFaceModel never throws: missing manifest, corrupt normaliser, corrupt ONNX', async () => {
  let model = await loadFaceModel({ dir: join(tmpdir(), 'no-such-face-model'), runnerFactory: factory });
  assert.equal(model.status().available, false);
  assert.match(model.status().error!, /model\.json: face model manifest not found/);
  await assert.rejects(model.inferBatch([{ aus: new Float32Array(35), frames: 1 }]), /face model unavailable: .*model\.json/);
  let dir = writeModelDir(randomLayers(1));
  writeFileSync(join(dir, 'normaliser.json'), JSON.stringify({ min: [0], max: [1] }));
  model = await loadFaceModel({ dir, runnerFactory: factory });
  assert.match(model.status().error!, /normaliser\.json: min\/max have 1\/1 values, expected 35/);
  dir = writeModelDir(randomLayers(1));
  writeFileSync(join(dir, 'static.onnx'), 'not onnx');
  model = await loadFaceModel({ dir, runnerFactory: factory });
  assert.match(model.status().error!, /static\.onnx: cannot load ONNX model/);
  dir = writeModelDir(randomLayers(1));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: FACE_MANIFEST_FORMAT, labels: [...EMOTIONS].reverse() }));
  model = await loadFaceModel({ dir, runnerFactory: factory });
  assert.match(model.status().error!, /labels must be neutral,calm/);
});

test('shipped models/face classifies the RAVDESS clip means it was trained on (sanity, not the CV figure)', {
  skip: !existsSync('models/face/model.json') ? 'models/face not shipped' : hasShared() ? false : 'needs ../shared (RAVDESS)',
}, async () => {
  const model = await loadFaceModel({ runnerFactory: factory });
  assert.equal(model.status().available, true, model.status().error);
  const clips = loadClipMeanAus();
  const probs = await model.inferBatch(clips.map((c) => ({ aus: c.aus, frames: 1 })));
  const correct = probs.filter((p, i) => p.indexOf(Math.max(...p)) === clips[i].label).length;
  assert.ok(correct / clips.length > 0.6, `training-set accuracy ${correct / clips.length}`);
  await model.dispose();
});
