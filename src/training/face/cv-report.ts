import { EMOTIONS } from '../../protocol/labels.js';
import { accuracy, ci95, confusionMatrix, perClassMetrics, type PerClass } from '../metrics.js';

/** Accuracy of one model on one outer fold. */
export interface FoldResult {
  fold: number;
  validationActors: number[];
  n: number;
  accuracy: number;
}

/** One model's subject-wise CV: per-fold accuracies, their mean with the paper's 95 % interval. */
export interface CvRow {
  id: string;
  label: string;
  /** The paper's figure as a fraction, or null when not quoted. */
  paperAccuracy: number | null;
  folds: FoldResult[];
  meanAccuracy: number;
  /** Half-width of the 95 % normal-approximation interval over all validation clips, as the paper reports. */
  ci95: number;
  n: number;
  /** Mean negative log-likelihood of the true class over all validation clips (calibration), when probabilities exist. */
  meanNll?: number;
}

export interface ClassMetrics {
  labels: readonly string[];
  /** confusion[true][predicted] over all validation clips of all folds. */
  confusion: number[][];
  perClass: (PerClass & { label: string })[];
}

/** Builds a CvRow from per-fold (truth, predicted) pairs. */
export function cvRow(
  id: string, label: string, paperAccuracy: number | null,
  folds: { fold: number; validationActors: number[]; truth: number[]; predicted: number[]; probs?: ArrayLike<number>[] }[],
): CvRow {
  const fr = folds.map((f) => ({ fold: f.fold, validationActors: f.validationActors, n: f.truth.length, accuracy: accuracy(f.truth, f.predicted) }));
  const meanAccuracy = fr.reduce((s, f) => s + f.accuracy, 0) / fr.length;
  const n = fr.reduce((s, f) => s + f.n, 0);
  const row: CvRow = { id, label, paperAccuracy, folds: fr, meanAccuracy, ci95: ci95(meanAccuracy, n), n };
  if (folds.every((f) => f.probs !== undefined)) {
    let nll = 0;
    for (const f of folds) f.truth.forEach((y, i) => { nll -= Math.log(Math.max(f.probs![i][y], 1e-12)); });
    row.meanNll = nll / n;
  }
  return row;
}

/** True when every vector sums to 1 within 1e-3 with values in [0, 1] (so an NLL means something). */
export function areProbabilities(rows: ArrayLike<number>[]): boolean {
  return rows.every((r) => {
    let s = 0;
    for (let i = 0; i < r.length; i++) { if (r[i] < 0 || r[i] > 1) return false; s += r[i]; }
    return Math.abs(s - 1) < 1e-3;
  });
}

export function classMetrics(truth: number[], predicted: number[]): ClassMetrics {
  const confusion = confusionMatrix(truth, predicted);
  return { labels: EMOTIONS, confusion, perClass: perClassMetrics(confusion).map((p, i) => ({ ...p, label: EMOTIONS[i] })) };
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : (100 * x).toFixed(2));

/** Markdown table of CV rows beside the paper's figures. */
export function rowsMarkdown(rows: CvRow[], notes: Record<string, string> = {}): string {
  const withNll = rows.some((r) => r.meanNll !== undefined);
  const lines = withNll
    ? ['| model | ours: accuracy % (95 % CI) | per fold % | mean NLL | paper % |', '|---|---|---|---|---|']
    : ['| model | ours: accuracy % (95 % CI) | per fold % | paper % |', '|---|---|---|---|'];
  for (const r of rows) {
    const ours = r.folds.length > 0 ? `${pct(r.meanAccuracy)} ± ${pct(r.ci95)}` : (notes[r.id] ?? 'not run');
    const nll = withNll ? ` ${r.meanNll === undefined ? '—' : r.meanNll.toFixed(3)} |` : '';
    lines.push(`| ${r.label} | ${ours} | ${r.folds.map((f) => pct(f.accuracy)).join(' / ')} |${nll} ${pct(r.paperAccuracy)} |`);
  }
  return lines.join('\n');
}

export function classMetricsMarkdown(m: ClassMetrics): string {
  const head = `| true \\ predicted | ${m.labels.join(' | ')} |`;
  const sep = `|---|${m.labels.map(() => '---').join('|')}|`;
  const rows = m.confusion.map((r, i) => `| ${m.labels[i]} | ${r.join(' | ')} |`);
  const pc = ['| class | precision % | recall % | F1 % | support |', '|---|---|---|---|---|',
    ...m.perClass.map((p) => `| ${p.label} | ${pct(p.precision)} | ${pct(p.recall)} | ${pct(p.f1)} | ${p.support} |`)];
  return [head, sep, ...rows, '', ...pc].join('\n');
}
