/**
 * Limited-memory BFGS with a backtracking (Armijo) line search, for small smooth convex problems such as the fusion's
 * multinomial logistic regression (a few hundred parameters). No npm package offers multinomial L2 logistic regression
 * with scikit-learn's objective, and the optimiser is the only non-trivial part.
 */
export interface LbfgsOptions {
  maxIter?: number;
  memory?: number;
  /** Stop when the gradient's max-norm falls below this (scikit-learn's lbfgs uses tol 1e-4 on the projected gradient). */
  gradTol?: number;
}

export function lbfgs(
  f: (x: Float64Array, grad: Float64Array) => number, x0: Float64Array, opts: LbfgsOptions = {},
): { x: Float64Array; value: number; iterations: number; converged: boolean } {
  const n = x0.length;
  const m = opts.memory ?? 10;
  const maxIter = opts.maxIter ?? 1000;
  const gradTol = opts.gradTol ?? 1e-6;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let fx = f(x, g);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const alpha = new Array<number>(m).fill(0);
  for (let iter = 0; iter < maxIter; iter++) {
    if (maxAbs(g) < gradTol) return { x, value: fx, iterations: iter, converged: true };
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let j = s.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(s[j], dir);
      axpy(-alpha[j], y[j], dir);
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma = dot(s[last], y[last]) / dot(y[last], y[last]);
      for (let i = 0; i < n; i++) dir[i] *= gamma;
    }
    for (let j = 0; j < s.length; j++) {
      const beta = rho[j] * dot(y[j], dir);
      axpy(alpha[j] - beta, s[j], dir);
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = 0; y.length = 0; rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i];
      slope = dot(g, dir);
    }
    let step = s.length === 0 ? Math.min(1, 1 / Math.max(1e-12, Math.sqrt(dot(g, g)))) : 1;
    let fNew = NaN;
    let accepted = false;
    for (let ls = 0; ls < 50; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      fNew = f(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= fx + 1e-4 * step * slope) { accepted = true; break; }
      step *= 0.5;
    }
    if (!accepted) return { x, value: fx, iterations: iter, converged: false };
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) { sk[i] = xNew[i] - x[i]; yk[i] = gNew[i] - g[i]; }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.length === m) { s.shift(); y.shift(); rho.shift(); }
      s.push(sk); y.push(yk); rho.push(1 / sy);
    }
    const decrease = fx - fNew;
    x.set(xNew); g.set(gNew); fx = fNew;
    if (decrease >= 0 && decrease < 1e-14 * Math.max(1, Math.abs(fx))) return { x, value: fx, iterations: iter + 1, converged: true };
  }
  return { x, value: fx, iterations: maxIter, converged: maxAbs(g) < gradTol };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}
function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
