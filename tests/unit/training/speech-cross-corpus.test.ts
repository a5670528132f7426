import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreRestricted } from '../../../src/training/speech/cross-corpus.js';
import { EMOTIONS } from '../../../src/protocol/labels.js';

const post = (...pairs: [string, number][]) => {
  const p = new Float32Array(8);
  for (const [e, v] of pairs) p[EMOTIONS.indexOf(e as never)] = v;
  return p;
};

test('cross-corpus scoring: posteriors restricted to the shared emotions, accuracy, UAR, chance, majority, confusion', () => {
  const shared = ['neutral', 'happy', 'sad', 'angry'] as const;
  // Clip 0: calm (not shared) is the top class, but among the shared ones sad wins -> correct for a sad clip.
  const probs = [post(['calm', 0.6], ['sad', 0.3], ['happy', 0.1]), post(['happy', 0.5], ['angry', 0.4]), post(['angry', 0.9]), post(['neutral', 0.2], ['sad', 0.1])];
  const labels = ['sad', 'angry', 'angry', 'neutral'].map((e) => EMOTIONS.indexOf(e as never));
  const r = scoreRestricted(probs, labels, [...shared]);
  assert.equal(r.accuracy, 3 / 4);
  assert.equal(r.chance, 1 / 4);
  assert.equal(r.majority, 2 / 4);
  assert.deepEqual(r.recall, { neutral: 1, happy: NaN, sad: 1, angry: 0.5 });
  assert.ok(Math.abs(r.uar - (1 + 1 + 0.5) / 3) < 1e-12, 'UAR over the classes present in the test set');
  assert.deepEqual(r.confusion[3], [0, 1, 0, 1], 'angry row: one taken for happy, one right');
  assert.throws(() => scoreRestricted([probs[0]], [EMOTIONS.indexOf('calm')], [...shared]), /calm is not among/);
});
