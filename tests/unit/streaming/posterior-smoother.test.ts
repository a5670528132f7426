import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PosteriorSmoother } from '../../../src/streaming/posterior-smoother.js';
import { EMOTIONS } from '../../../src/protocol/labels.js';

const onehot = (label: string, p = 1): number[] => EMOTIONS.map((e) => (e === label ? p : (1 - p) / (EMOTIONS.length - 1)));

test('posterior smoother: first update passes through; weight follows the half-life in time, not in updates', () => {
  const s = new PosteriorSmoother({ halfLifeMs: 1000, switchMargin: 0 });
  assert.deepEqual(s.update(onehot('happy'), 0).probs, onehot('happy').map((p) => Math.round(p * 1e6) / 1e6));
  // One half-life later a sad posterior takes exactly half the weight.
  const after = s.update(onehot('sad'), 1000);
  assert.ok(Math.abs(after.probs[EMOTIONS.indexOf('happy')] - 0.5) < 1e-6);
  assert.ok(Math.abs(after.probs[EMOTIONS.indexOf('sad')] - 0.5) < 1e-6);
  // Two updates of 500 ms each equal one of 1000 ms.
  const a = new PosteriorSmoother({ halfLifeMs: 1000, switchMargin: 0 });
  a.update(onehot('happy'), 0); a.update(onehot('sad'), 500); const two = a.update(onehot('sad'), 1000);
  const b = new PosteriorSmoother({ halfLifeMs: 1000, switchMargin: 0 });
  b.update(onehot('happy'), 0); const one = b.update(onehot('sad'), 1000);
  for (let i = 0; i < EMOTIONS.length; i++) assert.ok(Math.abs(two.probs[i] - one.probs[i]) < 1e-6);
});

test('posterior smoother: the label holds through near ties (hysteresis) and moves on a clear change', () => {
  const s = new PosteriorSmoother({ halfLifeMs: 0, switchMargin: 0.1 });
  const tie = (lead: string, other: string, d: number) => EMOTIONS.map((e) => (e === lead ? 0.45 + d : e === other ? 0.45 : 0.1 / 6));
  assert.equal(s.update(tie('happy', 'neutral', 0.05), 0).label, 'happy');
  assert.equal(s.update(tie('neutral', 'happy', 0.05), 500).label, 'happy', 'a 0.05 lead does not flip the label');
  assert.equal(s.update(tie('neutral', 'happy', 0.2), 1000).label, 'neutral', 'a 0.2 lead does');
  s.reset();
  assert.equal(s.current(), null);
});

test('posterior smoother: bad options and wrong lengths are refused', () => {
  assert.throws(() => new PosteriorSmoother({ halfLifeMs: -1, switchMargin: 0 }), RangeError);
  assert.throws(() => new PosteriorSmoother({ halfLifeMs: 1, switchMargin: 1 }), RangeError);
  assert.throws(() => new PosteriorSmoother().update([0.5, 0.5], 0), RangeError);
});
