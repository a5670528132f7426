import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf } from '../../../src/training/tf.js';
import { maskedSoftmaxCrossEntropy, maskedTarget, trainFunctionalModel, MASKED_LOGIT, DEFAULT_FUNCTIONAL_MODEL } from '../../../src/training/speech/functional-model.js';
import { balanceWeights, speakerStatsWithPrior } from '../../../src/training/speech/multi-corpus.js';
import type { SpeechItem } from '../../../src/training/speech/dataset.js';
import { rng } from '../../../src/training/random.js';

const item = (corpus: string, actor: number, label = 0, frames = 1, logMel = new Float32Array(frames * 2)): SpeechItem =>
  ({ clip: { clipId: `${corpus}-${actor}-${Math.random()}`, path: '' }, logMel, frames, label, actor, corpus });

test('masked target: smoothing only over the classes the corpus has, the label gets 1 - smooth', () => {
  const out = new Float32Array(16);
  const mask = Uint8Array.from([1, 0, 1, 1, 1, 0, 0, 0]);
  maskedTarget(2, 0.1, mask, out, 8);
  assert.deepEqual(Array.from(out.subarray(0, 8)), new Array(8).fill(0));
  const row = Array.from(out.subarray(8));
  [1, 5, 6, 7].forEach((c) => assert.equal(row[c], 0, `masked class ${c}`));
  assert.ok(Math.abs(row[2] - (0.9 + 0.025)) < 1e-6);
  assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('masked loss: a masked class is not a negative (its logit does not change the loss); weights weigh rows', async () => {
  const tf = await initTf();
  const mask = [1, 1, 1, 1, 1, 0, 0, 0];
  const bias = tf.tensor2d([mask.map((m) => (m ? 0 : MASKED_LOGIT))]);
  const target = new Float32Array(8);
  maskedTarget(0, 0.1, Uint8Array.from(mask), target, 0);
  const y = tf.tensor2d(target, [1, 8]);
  const w = tf.tensor1d([1]);
  const loss = (logits: number[]) => maskedSoftmaxCrossEntropy(tf, y, tf.tensor2d([logits]), bias, w).dataSync()[0];
  const base = [2, 0.5, 0, -1, 0.3, 0, 0, 0];
  const raisedMasked = [2, 0.5, 0, -1, 0.3, 9, 9, 9];
  assert.ok(Math.abs(loss(base) - loss(raisedMasked)) < 1e-6, 'masked logits do not move the loss');
  // Unmasked, the same change is a heavy penalty (the classes would be negatives).
  const plain = (logits: number[]) => tf.losses.softmaxCrossEntropy(tf.tensor2d([Array.from(target)]), tf.tensor2d([logits])).dataSync()[0];
  assert.ok(plain(raisedMasked) - plain(base) > 5);
  // A weight-0 row contributes nothing to the weighted mean.
  const y2 = tf.tensor2d([Array.from(target), Array.from(target)]);
  const two = maskedSoftmaxCrossEntropy(tf, y2, tf.tensor2d([base, [-5, 5, 5, 5, 5, 0, 0, 0]]), tf.concat([bias, bias]) as never, tf.tensor1d([1, 0])).dataSync()[0];
  assert.ok(Math.abs(two - loss(base)) < 1e-6);
});

test('training with a corpus mask leaves the absent classes untouched (output bias stays 0); without the mask it pushes them down', async () => {
  const tf = await initTf();
  const rand = rng(3);
  const n = 200, dims = 4;
  const x = Float32Array.from({ length: n * dims }, () => rand() * 2 - 1);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * dims] > 0 ? 0 : 1));
  const mask = new Uint8Array(n * 8);
  for (let i = 0; i < n; i++) { mask[i * 8] = 1; mask[i * 8 + 1] = 1; }
  const cfg = { ...DEFAULT_FUNCTIONAL_MODEL, hidden: 0, epochs: 5, batchSize: 32, learningRate: 1e-2 };
  const masked = await trainFunctionalModel(tf, x, y, n, dims, cfg, undefined, { mask });
  const plain = await trainFunctionalModel(tf, x, y, n, dims, cfg);
  for (let c = 2; c < 8; c++) {
    assert.equal(masked.b1[c], 0, `class ${c}: bias untouched with the mask`);
    assert.ok(plain.b1[c] < -0.05, `class ${c}: pushed down without the mask (${plain.b1[c]})`);
  }
  assert.ok(masked.b1[0] !== 0 || masked.b1[1] !== 0, 'present classes are trained');
});

test('corpus and speaker balance: totals follow size^power, mean weight 1', () => {
  const items: SpeechItem[] = [];
  // Corpus A: 100 clips of speaker 1 and 4 of speaker 2; corpus B: 16 clips of speaker 3.
  for (let i = 0; i < 100; i++) items.push(item('a', 1));
  for (let i = 0; i < 4; i++) items.push(item('a', 2));
  for (let i = 0; i < 16; i++) items.push(item('b', 3));
  const total = (w: Map<SpeechItem, number>, f: (it: SpeechItem) => boolean) => items.filter(f).reduce((s, it) => s + w.get(it)!, 0);
  const equal = balanceWeights(items, { corpusPower: 0, speakerPower: 0 });
  assert.ok(Math.abs(total(equal, () => true) / items.length - 1) < 1e-9, 'mean 1');
  assert.ok(Math.abs(total(equal, (it) => it.corpus === 'a') - total(equal, (it) => it.corpus === 'b')) < 1e-9, 'corpora weigh the same');
  assert.ok(Math.abs(total(equal, (it) => it.actor === 1) - total(equal, (it) => it.actor === 2)) < 1e-9, 'speakers weigh the same');
  const natural = balanceWeights(items, { corpusPower: 1, speakerPower: 1 });
  for (const it of items) assert.ok(Math.abs(natural.get(it)! - 1) < 1e-9, 'power 1 = every clip weight 1');
  const half = balanceWeights(items, { corpusPower: 0.5, speakerPower: 0.5 });
  const ratio = total(half, (it) => it.corpus === 'a') / total(half, (it) => it.corpus === 'b');
  assert.ok(Math.abs(ratio - Math.sqrt(104 / 16)) < 1e-9, `corpus ratio ${ratio}`);
  const sp = total(half, (it) => it.actor === 1) / total(half, (it) => it.actor === 2);
  assert.ok(Math.abs(sp - Math.sqrt(100 / 4)) < 1e-9, `speaker ratio ${sp}`);
});

test('per-speaker statistics with a prior: a speaker with few frames is pulled to the prior, one with many keeps their own', () => {
  const bands = 2, gate = -100;
  const frames = (n: number, v: number) => Float32Array.from({ length: n * bands }, (_, i) => v + (i % 4 < 2 ? 0.5 : -0.5));
  const items = [item('a', 1, 0, 3000, frames(3000, 0)), item('a', 2, 0, 3000, frames(3000, 2)), item('b', 3, 0, 10, frames(10, 10))];
  const own = speakerStatsWithPrior(items, bands, gate, 0);
  assert.ok(Math.abs(own.get(3)!.mean[0] - 10) < 1e-3);
  const prior = speakerStatsWithPrior(items, bands, gate, 300);
  const priorMean = (0 + 2 + 10) / 3;
  const few = prior.get(3)!.mean[0];
  assert.ok(Math.abs(few - (10 * 10 + priorMean * 300) / 310) < 1e-3, `few-frame speaker mean ${few}`);
  const many = prior.get(1)!.mean[0];
  assert.ok(Math.abs(many - (0 * 3000 + priorMean * 300) / 3300) < 1e-3 && many < 0.5, `many-frame speaker mean ${many}`);
});
