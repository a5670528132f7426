import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunningMeanVar } from '../../../src/features/running-stats.js';

test('running mean and std equal the two-pass values, per dimension', () => {
  const rows = [[1, 10], [2, 10], [4, 13], [7, 7]];
  const acc = new RunningMeanVar(2);
  for (const r of rows) acc.add(r);
  const { mean, std } = acc.stats(0, 'empty');
  for (let d = 0; d < 2; d++) {
    const m = rows.reduce((s, r) => s + r[d], 0) / rows.length;
    const sd = Math.sqrt(rows.reduce((s, r) => s + (r[d] - m) ** 2, 0) / rows.length);
    assert.ok(Math.abs(mean[d] - m) < 1e-6 && Math.abs(std[d] - sd) < 1e-6, `dim ${d}: ${mean[d]}/${std[d]} vs ${m}/${sd}`);
  }
  assert.equal(acc.count, 4);
});

test('a prior counts as `weight` observations, an offset reads inside a packed buffer, std is floored, nothing seen throws', () => {
  const acc = new RunningMeanVar(1, { mean: [0], std: [2], weight: 3 });
  assert.equal(acc.count, 3);
  acc.add(Float32Array.of(99, 4), 1);
  const { mean, std } = acc.stats(0, 'empty');
  assert.equal(mean[0], 1); // (3 * 0 + 4) / 4
  assert.ok(Math.abs(std[0] - Math.sqrt((2 * 2 * 3 + (4 - 0) * (4 - 1)) / 4)) < 1e-6);
  const constant = new RunningMeanVar(1);
  constant.add([5]);
  constant.add([5]);
  assert.equal(constant.stats(0.25, 'empty').std[0], 0.25);
  assert.throws(() => new RunningMeanVar(2).stats(0.1, 'no frames yet'), /no frames yet/);
});
