import { NUM_EMOTIONS } from '../protocol/labels.js';

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** confusion[true][predicted] counts. */
export function confusionMatrix(truth: number[], predicted: number[], numClasses = NUM_EMOTIONS): number[][] {
  if (truth.length !== predicted.length) throw new Error('truth and predicted differ in length');
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++;
  return m;
}

export function accuracy(truth: number[], predicted: number[]): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) ok++;
  return truth.length === 0 ? 0 : ok / truth.length;
}

/** Half-width of the 95 % normal-approximation interval of an accuracy measured on n samples (as the paper reports). */
export function ci95(acc: number, n: number): number {
  return n === 0 ? 0 : 1.96 * Math.sqrt((acc * (1 - acc)) / n);
}

export interface PerClass { precision: number; recall: number; f1: number; support: number }

export function perClassMetrics(confusion: number[][]): PerClass[] {
  const k = confusion.length;
  return confusion.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((s, x) => s + x, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += confusion[r][c];
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1, support };
  });
}

export function macroF1(truth: number[], predicted: number[], numClasses = NUM_EMOTIONS): number {
  const pcs = perClassMetrics(confusionMatrix(truth, predicted, numClasses));
  return pcs.reduce((s, p) => s + p.f1, 0) / numClasses;
}
