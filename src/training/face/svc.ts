import { createRequire } from 'node:module';

/** The subset of libsvm-js we use (it ships no type declarations). */
interface LibSvmInstance {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  predictProbability(samples: number[][]): { prediction: number; estimates: { label: number; probability: number }[] }[];
  free(): void;
}
interface LibSvmClass {
  new (options: Record<string, unknown>): LibSvmInstance;
  SVM_TYPES: Record<string, unknown>;
  KERNEL_TYPES: Record<string, unknown>;
}

let svmClass: Promise<LibSvmClass> | null = null;

/** libsvm (C, compiled to wasm) through libsvm-js; the CommonJS module resolves to a promise of the class. */
export function loadLibSvm(): Promise<LibSvmClass> {
  svmClass ??= (async () => {
    const require = createRequire(import.meta.url);
    // Emscripten logs a harmless "wasm streaming compile failed" under Node (it falls back to ArrayBuffer); silence it.
    const warn = console.warn;
    console.warn = () => {};
    try {
      return (await (require('libsvm-js/wasm') as Promise<LibSvmClass>));
    } finally {
      console.warn = warn;
    }
  })();
  return svmClass;
}

/** scikit-learn's gamma='scale': 1 / (n_features * variance of all training values). */
export function gammaScale(x: ArrayLike<number>[]): number {
  let n = 0, mean = 0, m2 = 0;
  for (const row of x) for (let j = 0; j < row.length; j++) {
    n++;
    const d = row[j] - mean;
    mean += d / n;
    m2 += d * (row[j] - mean);
  }
  const variance = n > 0 ? m2 / n : 0;
  return variance > 0 ? 1 / (x[0].length * variance) : 1;
}

export interface SvcFit {
  /** Class by one-vs-one voting (what scikit-learn's SVC.predict returns). */
  predict(x: ArrayLike<number>[]): number[];
  /** Platt-scaled posteriors over `numClasses` classes (libsvm -b 1, internal 5-fold CV as in scikit-learn). */
  predictProba(x: ArrayLike<number>[], numClasses: number): Float32Array[];
  free(): void;
}

/** Trains an RBF C-SVC; `probability` also fits libsvm's pairwise Platt coupling for posteriors. */
export async function trainSvc(x: ArrayLike<number>[], y: number[], opts: { c: number; probability: boolean }): Promise<SvcFit> {
  const SVM = await loadLibSvm();
  const svm = new SVM({
    type: SVM.SVM_TYPES.C_SVC, kernel: SVM.KERNEL_TYPES.RBF, cost: opts.c, gamma: gammaScale(x),
    probabilityEstimates: opts.probability, quiet: true, shrinking: true,
  });
  svm.train(x.map((r) => Array.from(r)), y);
  return {
    predict: (q) => svm.predict(q.map((r) => Array.from(r))),
    predictProba(q, numClasses) {
      if (!opts.probability) throw new Error('SVC trained without probability estimates');
      return svm.predictProbability(q.map((r) => Array.from(r))).map((p) => {
        const out = new Float32Array(numClasses);
        for (const e of p.estimates) out[e.label] = e.probability;
        return out;
      });
    },
    free: () => svm.free(),
  };
}
