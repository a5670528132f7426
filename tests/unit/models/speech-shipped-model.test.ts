import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { loadSpeechModel } from '../../../src/models/speech/index.js';
import { readWav } from '../../../src/features/wav.js';
import { hasShared, RAVDESS_DIR } from '../../../src/training/ravdess.js';

const shipped = existsSync('models/speech/model.json');

test('the shipped default loads as the server loads it and streams 3 s windows', { skip: shipped ? false : 'models/speech not trained yet' }, async () => {
  const model = await loadSpeechModel({ runnerFactory: (p) => createInProcessRunner(p) });
  const st = model.status();
  assert.equal(st.available, true, st.error);
  assert.equal(st.details?.kind, 'features');
  assert.equal(st.details?.windowSamples, 48000);
  const stream = model.createStream();
  const audio = Float32Array.from({ length: 64000 }, (_, i) => 0.2 * Math.sin(i / 8) * (0.5 + 0.5 * Math.sin(i / 2500)));
  stream.push(audio);
  const windows = [stream.window(48000, 48000)!, stream.window(56000, 48000)!, stream.window(64000, 48000)!];
  const probs = await model.inferBatch(windows);
  assert.equal(probs.length, 3);
  for (const p of probs) assert.ok(Math.abs(p.reduce((a, b) => a + b) - 1) < 1e-5 && p.every((v) => v >= 0));
  await model.dispose();
});

test('served pipeline end to end on real speech: one session, seven strong-intensity clips of actor 1', {
  skip: !shipped ? 'models/speech not trained yet' : hasShared() ? false : 'needs ../shared (RAVDESS)',
}, async () => {
  // Actor 1 is in the shipped model's training data: this checks the served path (stream, running normaliser,
  // ONNX) on real audio, not generalisation, which the CV report measures.
  const model = await loadSpeechModel({ runnerFactory: (p) => createInProcessRunner(p) });
  const stream = model.createStream();
  let end = 0, correct = 0;
  for (let emotion = 2; emotion <= 8; emotion++) {
    const { samples } = readWav(join(RAVDESS_DIR, 'speech-16k', 'Actor_01', `03-01-0${emotion}-02-01-01-01.wav`));
    stream.push(samples);
    end += samples.length;
    const [p] = await model.inferBatch([stream.window(end, 48000)!]);
    if (p.indexOf(Math.max(...p)) === emotion - 1) correct++;
  }
  assert.ok(correct >= 4, `${correct} of 7 clips recognised`);
  await model.dispose();
});
