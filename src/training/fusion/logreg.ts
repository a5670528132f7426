import { lbfgs } from './lbfgs.js';

export interface LogRegFit {
  /** Row-major [classes][dim]. */
  weights: number[][];
  bias: number[];
  iterations: number;
  converged: boolean;
}

/**
 * Multinomial logistic regression with scikit-learn's objective: minimise 0.5·‖W‖² + C·Σ_i cross-entropy_i,
 * intercepts not penalised (LogisticRegression(C=c, multi_class='multinomial', solver='lbfgs')).
 */
export function fitMultinomialLogReg(x: ArrayLike<number>[], y: number[], classes: number, c = 1): LogRegFit {
  const n = x.length;
  if (n === 0) throw new Error('fitMultinomialLogReg: no rows');
  if (y.length !== n) throw new Error('fitMultinomialLogReg: x and y differ in length');
  const d = x[0].length;
  for (const label of y) if (!Number.isInteger(label) || label < 0 || label >= classes) throw new Error(`fitMultinomialLogReg: label ${label} out of range`);
  const nW = classes * d;
  const logits = new Float64Array(classes);
  const objective = (p: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < nW; i++) { loss += 0.5 * p[i] * p[i]; grad[i] = p[i]; }
    for (let r = 0; r < n; r++) {
      const xr = x[r];
      let max = -Infinity;
      for (let k = 0; k < classes; k++) {
        let s = p[nW + k];
        const off = k * d;
        for (let j = 0; j < d; j++) s += p[off + j] * xr[j];
        logits[k] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let k = 0; k < classes; k++) sum += Math.exp(logits[k] - max);
      const logZ = max + Math.log(sum);
      loss += c * (logZ - logits[y[r]]);
      for (let k = 0; k < classes; k++) {
        const g = c * (Math.exp(logits[k] - logZ) - (k === y[r] ? 1 : 0));
        const off = k * d;
        for (let j = 0; j < d; j++) grad[off + j] += g * xr[j];
        grad[nW + k] += g;
      }
    }
    return loss;
  };
  const res = lbfgs(objective, new Float64Array(nW + classes), { maxIter: 2000, gradTol: 1e-6 });
  const weights = Array.from({ length: classes }, (_, k) => Array.from(res.x.subarray(k * d, (k + 1) * d)));
  return { weights, bias: Array.from(res.x.subarray(nW)), iterations: res.iterations, converged: res.converged };
}
