import { test } from 'node:test';
import assert from 'node:assert/strict';
import { facsPosterior, FACS_PROTOTYPES } from '../../../src/face/facs-rules.js';
import { facePosterior, logLinearPool, weightsFromAccuracy } from '../../../src/face/face-posterior.js';
import { AU_INTENSITY_COLUMNS, EMOTIONS, type Emotion } from '../../../src/protocol/labels.js';
import { fuseWithVideoFace } from '../../../src/streaming/video-face-fusion.js';
import { FusionStage } from '../../../src/streaming/fusion-stage.js';

const argmaxLabel = (p: ArrayLike<number>): string => EMOTIONS[Array.from(p).indexOf(Math.max(...Array.from(p)))];
const onehot = (label: Emotion, p: number): Float32Array => Float32Array.from(EMOTIONS, (e) => (e === label ? p : (1 - p) / (EMOTIONS.length - 1)));
const withAus = (aus: Record<string, number>): Float32Array => {
  const v = new Float32Array(35);
  for (const [au, x] of Object.entries(aus)) v[AU_INTENSITY_COLUMNS.indexOf(`${au}_r` as (typeof AU_INTENSITY_COLUMNS)[number])] = x;
  return v;
};

test('FACS rules: a resting face is neutral; each full prototype reads as its emotion', () => {
  assert.equal(argmaxLabel(facsPosterior(new Float32Array(35))), 'neutral');
  for (const [emotion, aus] of Object.entries(FACS_PROTOTYPES)) {
    const p = facsPosterior(withAus(Object.fromEntries(aus.map((a) => [a, 3]))));
    assert.equal(argmaxLabel(p), emotion, `${aus.join('+')} -> ${emotion}`);
    assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-5);
  }
  // Half a prototype is weaker evidence than all of it.
  const half = facsPosterior(withAus({ AU06: 3 }))[EMOTIONS.indexOf('happy')];
  const full = facsPosterior(withAus({ AU06: 3, AU12: 3 }))[EMOTIONS.indexOf('happy')];
  assert.ok(half < full);
  assert.throws(() => facsPosterior(new Float32Array(3)), /17 AU intensities/);
});

test('log-linear pool: weighted geometric mean, renormalised over present branches, zeros floored', () => {
  const a = onehot('happy', 0.8), b = onehot('sad', 0.6);
  const p = logLinearPool({ expression: a, facs: b }, { expression: 0.75, facs: 0.25 })!;
  assert.equal(argmaxLabel(p), 'happy');
  // By hand: p(c) ∝ a^0.75 b^0.25.
  const byHand = EMOTIONS.map((_, i) => a[i] ** 0.75 * b[i] ** 0.25);
  const z = byHand.reduce((s, x) => s + x, 0);
  byHand.forEach((x, i) => assert.ok(Math.abs(p[i] - x / z) < 1e-6));
  // A missing branch: the other passes through unchanged (weights renormalised).
  const only = logLinearPool({ expression: a, facs: null }, { expression: 0.75, facs: 0.25 })!;
  only.forEach((x, i) => assert.ok(Math.abs(x - a[i]) < 1e-6));
  assert.equal(logLinearPool({ expression: null }, { expression: 1 }), null);
  // A 0 (the expression net has no 'calm') does not veto: finite and normalised.
  const zero = Float32Array.from(a);
  zero[1] = 0;
  const q = logLinearPool({ expression: zero, facs: b }, { expression: 0.5, facs: 0.5 })!;
  assert.ok(q.every(Number.isFinite) && Math.abs(q.reduce((s, x) => s + x, 0) - 1) < 1e-5);
  assert.deepEqual(weightsFromAccuracy({ expression: 0.55, auModel: 0.1 }), { expression: 0.55 - 0.125, auModel: 0 });
});

test('face posterior modes pick their branch; pool combines the three', () => {
  const branches = { expression: onehot('happy', 0.7), auModel: onehot('sad', 0.9), facs: onehot('happy', 0.4) };
  assert.equal(argmaxLabel(facePosterior('expression', branches)!), 'happy');
  assert.equal(argmaxLabel(facePosterior('au-model', branches)!), 'sad');
  assert.equal(argmaxLabel(facePosterior('pool', branches)!), 'happy', 'the AU model has little weight (it transfers worst)');
  assert.equal(facePosterior('au-model', { expression: branches.expression }), null);
});

test('video-face fusion: face alone passes through; a confident strong branch is not overruled by an unsure weak one', () => {
  const stage = new FusionStage(null);
  const face = onehot('happy', 0.9);
  const alone = fuseWithVideoFace(stage, null, face);
  assert.equal(alone.label, 'happy');
  assert.equal(alone.head, 'video-face');
  // Speech confident angry, face unsure sad: speech wins. Face confident happy, speech unsure neutral: face wins.
  assert.equal(fuseWithVideoFace(stage, onehot('angry', 0.9), onehot('sad', 0.25)).label, 'angry');
  assert.equal(fuseWithVideoFace(stage, onehot('neutral', 0.25), onehot('happy', 0.9)).label, 'happy');
  // Weights that sum to 1: two branches saying the same thing give that, not more (no double counting).
  const both = fuseWithVideoFace(stage, onehot('sad', 0.6), onehot('sad', 0.6));
  assert.equal(both.label, 'sad');
  assert.ok(Math.abs(both.probs[EMOTIONS.indexOf('sad')] - 0.6) < 1e-5);
});
