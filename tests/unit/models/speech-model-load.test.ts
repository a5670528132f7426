import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxGraphBuilder } from '../../../src/onnx/builder.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { loadSpeechModel, type SpeechWindow } from '../../../src/models/speech/index.js';
import { saveSpeechBundle } from '../../../src/training/speech/bundle.js';
import { initWeights, DEFAULT_NET_CONFIG } from '../../../src/training/speech/net.js';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';

const runnerFactory = (p: string) => createInProcessRunner(p);
const tmp = () => mkdtempSync(join(tmpdir(), 'emostream-speech-'));

/** A wav2vec2-contract stand-in: audio [batch, samples] -> logits [batch, 8] = the first 8 samples. */
function tinyRawAudioOnnx(outWidth = 8, inputDims: (number | string)[] = ['batch', 'samples']): Uint8Array {
  const g = new OnnxGraphBuilder('tiny_ser');
  const x = g.input('input_values', inputDims);
  g.op('Slice', [x, g.constInt64('s', [0]), g.constInt64('e', [outWidth]), g.constInt64('a', [inputDims.length - 1])], {}, 'logits');
  g.output('logits', ['batch', outWidth]);
  return g.toBytes();
}

function rawConfig(onnx: string) {
  return { kind: 'raw-audio' as const, onnx, sampleRate: 16000 as const, windowSamples: 16000, normalize: false };
}

function featuresBundle(dir: string) {
  return saveSpeechBundle(dir, {
    net: DEFAULT_NET_CONFIG, members: [initWeights(DEFAULT_NET_CONFIG, 5)], mel: DEFAULT_MEL_CONFIG, activityGate: -14,
    prior: { mean: new Float32Array(40).fill(-8), std: new Float32Array(40).fill(2) }, priorWeightFrames: 300,
    windowSamples: 48000, hopSamples: 8000, training: { note: 'random weights for tests' },
  });
}

async function assertUnavailable(dir: string, pattern: RegExp, config?: Parameters<typeof loadSpeechModel>[0]['config']) {
  const model = await loadSpeechModel({ dir, config, runnerFactory });
  const st = model.status();
  assert.equal(st.available, false);
  assert.match(st.error ?? '', pattern);
  await assert.rejects(model.inferBatch([]), pattern);
  // A stream still works so the session can keep buffering audio.
  const stream = model.createStream();
  stream.push(new Float32Array(1600));
  return model;
}

test('missing model directory / config: unavailable with the path in the error', async () => {
  await assertUnavailable(join(tmpdir(), 'emostream-no-such-dir'), /speech model config not found: .*model\.json/);
});

test('missing ONNX file named by a valid config', async () => {
  const dir = tmp();
  await assertUnavailable(dir, /speech model file not found: .*absent\.onnx/, rawConfig('absent.onnx'));
  rmSync(dir, { recursive: true });
});

test('corrupt ONNX file and corrupt model.json', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'bad.onnx'), Buffer.from('this is not a protobuf at all, just text'));
  await assertUnavailable(dir, /bad\.onnx: not a valid ONNX model/, rawConfig('bad.onnx'));
  writeFileSync(join(dir, 'model.json'), '{ "kind": "features", ');
  await assertUnavailable(dir, /model\.json: not valid JSON/);
  rmSync(dir, { recursive: true });
});

test('wrong output width, wrong input rank, wrong features shape: specific shape errors', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'out7.onnx'), tinyRawAudioOnnx(7));
  await assertUnavailable(dir, /wrong shape .*output 'logits' has shape \[batch, 7\], expected \[batch, 8\]/, rawConfig('out7.onnx'));
  writeFileSync(join(dir, 'rank3.onnx'), tinyRawAudioOnnx(8, ['batch', 1, 'samples']));
  await assertUnavailable(dir, /input 'input_values' has shape .*expected rank 2/, rawConfig('rank3.onnx'));
  featuresBundle(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  cfg.windowFrames = 200;
  writeFileSync(join(dir, 'model.json'), JSON.stringify(cfg));
  await assertUnavailable(dir, /input 'features' has shape \[batch, 300, 40\], expected \[batch, 200, 40\]/);
  rmSync(dir, { recursive: true });
});

test('wrong sample rate or label order in the config', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'ok.onnx'), tinyRawAudioOnnx());
  await assertUnavailable(dir, /sampleRate: emostream streams 16 kHz/, { ...rawConfig('ok.onnx'), sampleRate: 8000 as unknown as 16000 });
  await assertUnavailable(dir, /labels must be exactly neutral,calm/, { ...rawConfig('ok.onnx'), labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] });
  rmSync(dir, { recursive: true });
});

test('bring-your-own wav2vec2-style model: loads by config, streams raw audio, softmax of its logits', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'tiny.onnx'), tinyRawAudioOnnx());
  const model = await loadSpeechModel({ dir, config: rawConfig('tiny.onnx'), runnerFactory });
  assert.equal(model.status().available, true, model.status().error);
  assert.equal(model.status().details?.kind, 'raw-audio');
  const stream = model.createStream();
  assert.equal(stream.window(16000, 16000), null, 'no audio yet');
  const audio = Float32Array.from({ length: 20000 }, (_, i) => (i % 100) / 100);
  stream.push(audio);
  const w = stream.window(20000, 16000) as SpeechWindow;
  assert.ok(w && w.kind === 'raw-audio');
  const [probs] = await model.inferBatch([w]);
  // Window = the newest 16000 samples; the graph's logits are its first 8 samples: audio[4000..4008).
  const logits = Array.from(audio.subarray(4000, 4008));
  const z = logits.map((l) => Math.exp(l - Math.max(...logits)));
  const sum = z.reduce((a, b) => a + b);
  z.forEach((p, i) => assert.ok(Math.abs(p / sum - probs[i]) < 1e-6));
  // A short stream is zero-padded on the left: the first 8 values (the logits) are 0 -> uniform posterior.
  const short = model.createStream();
  short.push(audio.subarray(0, 1000));
  const sw = short.window(1000, 16000) as SpeechWindow;
  assert.equal(sw.kind === 'raw-audio' && sw.validSamples, 1000);
  const [uniform] = await model.inferBatch([sw]);
  uniform.forEach((p) => assert.ok(Math.abs(p - 0.125) < 1e-6));
  await model.dispose();
  rmSync(dir, { recursive: true });
});

test('features bundle: loads, batches windows from two streams, rejects a window of the other kind', async () => {
  const dir = tmp();
  featuresBundle(dir);
  const model = await loadSpeechModel({ dir, runnerFactory });
  assert.equal(model.status().available, true, model.status().error);
  const a = model.createStream(), b = model.createStream();
  a.push(Float32Array.from({ length: 48000 }, (_, i) => 0.3 * Math.sin(i / 7)));
  b.push(new Float32Array(20000)); // digital silence: defined behaviour, a finite posterior
  const wa = a.window(48000, 48000)!, wb = b.window(20000, 48000)!;
  assert.equal(wb.kind === 'features' && wb.activeFrames, 0);
  const out = await model.inferBatch([wa, wb]);
  assert.equal(out.length, 2);
  for (const p of out) {
    assert.equal(p.length, 8);
    assert.ok(p.every(Number.isFinite));
    assert.ok(Math.abs(p.reduce((x, y) => x + y) - 1) < 1e-5);
  }
  const raw = { kind: 'raw-audio', samples: new Float32Array(48000), validSamples: 48000, endSample: 48000 } as SpeechWindow;
  await assert.rejects(model.inferBatch([raw]), /expected a 'features' window/);
  await model.dispose();
  rmSync(dir, { recursive: true });
});
