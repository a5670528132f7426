import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitMultinomialLogReg } from '../../../src/training/fusion/logreg.js';
import { rng } from '../../../src/training/random.js';

function data(n: number, d: number, classes: number, seed: number) {
  const rand = rng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => 2 * rand() - 1));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y.push(c);
    x.push(centres[c].map((v) => v + (rand() - 0.5)));
  }
  return { x, y };
}

test('multinomial LR reaches the optimum of 0.5·‖W‖² + C·Σ CE (stationarity: W = C·Σ (y - p) xᵀ, Σ (y - p) = 0)', () => {
  const classes = 4;
  const { x, y } = data(200, 6, classes, 7);
  for (const c of [1, 0.1]) {
    const fit = fitMultinomialLogReg(x, y, classes, c);
    assert.ok(fit.converged, `converged for C=${c}`);
    const gradW = fit.weights.map((r) => r.map((w) => w)); // starts at W (the penalty's gradient)
    const gradB = new Array(classes).fill(0);
    for (let i = 0; i < x.length; i++) {
      const z = fit.weights.map((w, k) => fit.bias[k] + w.reduce((s, wj, j) => s + wj * x[i][j], 0));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let k = 0; k < classes; k++) {
        const g = c * (e[k] / sum - (k === y[i] ? 1 : 0));
        gradB[k] += g;
        for (let j = 0; j < x[i].length; j++) gradW[k][j] += g * x[i][j];
      }
    }
    const maxGrad = Math.max(...gradW.flat().map(Math.abs), ...gradB.map(Math.abs));
    assert.ok(maxGrad < 1e-4, `gradient at the solution ${maxGrad} for C=${c}`);
  }
});

test('stronger regularisation (smaller C) shrinks the weights; intercepts are not penalised', () => {
  const { x, y } = data(120, 3, 3, 3);
  const norm = (w: number[][]) => Math.sqrt(w.flat().reduce((s, v) => s + v * v, 0));
  const strong = fitMultinomialLogReg(x, y, 3, 0.01);
  const weak = fitMultinomialLogReg(x, y, 3, 10);
  assert.ok(norm(strong.weights) < norm(weak.weights));
  // Unbalanced classes with uninformative features: the intercepts alone carry the prior even under strong L2.
  const xs = Array.from({ length: 100 }, () => [0]);
  const ys = Array.from({ length: 100 }, (_, i) => (i < 80 ? 0 : 1));
  const prior = fitMultinomialLogReg(xs, ys, 2, 1e-3);
  const p0 = 1 / (1 + Math.exp(prior.bias[1] - prior.bias[0]));
  assert.ok(Math.abs(p0 - 0.8) < 1e-3, `p(class 0) = ${p0}`);
});

test('bad labels are refused', () => {
  assert.throws(() => fitMultinomialLogReg([[0], [1]], [0, 5], 2), /label 5 out of range/);
  assert.throws(() => fitMultinomialLogReg([], [], 2), /no rows/);
});
