import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMOTIONS } from '../../protocol/labels.js';
import { FUSION_FORMAT, validateFusionFile, type FusionFile } from '../../models/fusion/index.js';
import { loadFolds } from '../ravdess.js';
import { classMetricsMarkdown, rowsMarkdown, type ClassMetrics, type CvRow } from '../face/cv-report.js';
import { listBaseModels, loadBasePosteriors, type BasePosteriors } from './dataset.js';
import type { FusionFeatures } from '../../models/fusion/head.js';
import { fitShippedHeads, runFusionCv, PAPER_FUSION_ACCURACY } from './fusion-cv.js';
import { fusionModelCard } from './model-card.js';
import { commonReportFields, type CommonReportFields } from '../face/report-common.js';

export interface TrainFusionOptions {
  posteriorsDir: string;
  models?: string[];
  out: string;
  cv: boolean;
  /** Fit and write fusion.json (needs one base model per modality). */
  ship: boolean;
  c: number;
  /**
   * Input transform of every head. 'auto': log-posteriors when every base score is a probability (rows in [0, 1]
   * summing to 1), else posteriors (identity: logits and other scores). The report always carries the other variant too.
   */
  features?: FusionFeatures | 'auto';
  numFolds?: number;
  log: (msg: string) => void;
}

export interface FusionReport extends CommonReportFields {
  task: 'fusion';
  generatedAt: string;
  posteriorsDir: string;
  baseModels: { name: string; modality: string }[];
  protocol: string;
  model: string;
  /** Input transform of the reported (and shipped) fusion. */
  features: FusionFeatures;
  paperAccuracy: number;
  meanAccuracy: number;
  ci95: number;
  folds: CvRow['folds'];
  metrics: ClassMetrics;
  bestSingle: { id: string; meanAccuracy: number };
  gainOverBestSingle: number;
  rows: CvRow[];
  singleMetrics: Record<string, ClassMetrics>;
}

export async function trainFusion(o: TrainFusionOptions): Promise<{ report: FusionReport | null; fusion: FusionFile | null }> {
  const numFolds = o.numFolds ?? safeFoldCount();
  const names = listBaseModels(o.posteriorsDir, o.models);
  const models = loadBasePosteriors(o.posteriorsDir, names, numFolds);
  mkdirSync(o.out, { recursive: true });
  let report: FusionReport | null = null;
  const features = o.features === undefined || o.features === 'auto' ? (allProbabilities(models) ? 'log-posteriors' : 'posteriors') : o.features;
  o.log(`fusion features: ${features}`);
  if (o.cv) {
    const r = runFusionCv(models, numFolds, o.c, features);
    // The other input transform, for comparison (the paper's is 'posteriors'); log needs probabilities.
    const otherKind: FusionFeatures = features === 'posteriors' ? 'log-posteriors' : 'posteriors';
    const other = otherKind === 'posteriors' || allProbabilities(models) ? runFusionCv(models, numFolds, o.c, otherKind).fusion : null;
    const bestSingle = r.singles.reduce((a, b) => (b.meanAccuracy > a.meanAccuracy ? b : a));
    report = {
      ...commonReportFields(r.fusionMetrics),
      task: 'fusion', generatedAt: new Date().toISOString(), posteriorsDir: o.posteriorsDir,
      baseModels: models.map((m) => ({ name: m.name, modality: m.modality })),
      protocol: `subject-wise ${numFolds}-fold CV; per fold the fusion is fitted on train.csv (out-of-fold posteriors of the training actors) and scored on test.csv; per-column min-max fitted on the training clips; multinomial LR, L2, C=${o.c} (0.5·‖W‖² + C·Σ CE, intercepts unpenalised)`,
      model: r.fusion.id, features, paperAccuracy: PAPER_FUSION_ACCURACY,
      meanAccuracy: r.fusion.meanAccuracy, ci95: r.fusion.ci95, folds: r.fusion.folds, metrics: r.fusionMetrics,
      bestSingle: { id: bestSingle.id, meanAccuracy: bestSingle.meanAccuracy },
      gainOverBestSingle: r.fusion.meanAccuracy - bestSingle.meanAccuracy,
      rows: [r.fusion, ...(other ? [other] : []), ...r.subsetHeads, ...r.singles], singleMetrics: r.singleMetrics,
    };
    writeFileSync(join(o.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(o.out, 'report.md'), fusionReportMarkdown(report));
    o.log(`fusion of ${names.join(' + ')}: ${(100 * report.meanAccuracy).toFixed(2)} % ± ${(100 * report.ci95).toFixed(2)} `
      + `(best single ${bestSingle.id} ${(100 * bestSingle.meanAccuracy).toFixed(2)} %); report in ${o.out}`);
    for (const row of report.rows) o.log(`  ${row.label}: ${(100 * row.meanAccuracy).toFixed(2)} %`);
  }
  let fusion: FusionFile | null = null;
  if (o.ship) {
    const heads = fitShippedHeads(models, numFolds, o.c, features);
    fusion = {
      format: FUSION_FORMAT, labels: [...EMOTIONS], heads,
      trainedOn: {
        posteriorsDir: o.posteriorsDir, baseModels: models.map((m) => ({ name: m.name, modality: m.modality })),
        rows: 'union of every fold\'s test.csv (each clip scored by a base model that never trained on its actor)', c: o.c, features,
      },
    };
    validateFusionFile(JSON.parse(JSON.stringify(fusion)), 'fusion.json (self-check)');
    writeFileSync(join(o.out, 'fusion.json'), JSON.stringify(fusion, null, 2) + '\n');
    writeFileSync(join(o.out, 'README.md'), fusionModelCard({ heads, models: models.map((m) => `${m.name} (${m.modality})`), report }));
    o.log(`wrote ${join(o.out, 'fusion.json')} with heads ${heads.map((h) => h.name).join(', ')}`);
  }
  return { report, fusion };
}

/** True when every row of every base model is a probability vector (values in [0, 1], sum 1 within 1e-3). */
export function allProbabilities(models: BasePosteriors[]): boolean {
  for (const m of models) for (const f of m.folds) for (const row of [...f.train, ...f.test]) {
    let sum = 0;
    for (const v of row.probs) {
      if (v < 0 || v > 1) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

function safeFoldCount(): number {
  try {
    return loadFolds().length;
  } catch {
    return 5;
  }
}

export function fusionReportMarkdown(r: FusionReport): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  return `# Late fusion — subject-wise CV

Generated ${r.generatedAt}. Features: ${r.features}${r.features === 'log-posteriors' ? ' (log of each posterior, floored at 1e-6, before the min-max; the paper fuses the posteriors themselves: that row is reported too)' : ''}. Posteriors: \`${r.posteriorsDir}\`; base models: ${r.baseModels.map((m) => `${m.name} (${m.modality})`).join(', ')}.
Protocol: ${r.protocol}.

## Fusion, subset heads and each base model alone (paper's fusion row: ${pct(r.paperAccuracy)} %)
${rowsMarkdown(r.rows)}

Mean NLL: mean negative log-likelihood of the true emotion over the validation clips (lower = better calibrated;
only where the scores are probabilities). The single-modality heads are what a session with one modality gets: in this
CV they are fitted on train.csv, whose posteriors come from inner-split base models trained on fewer actors than the
ones that scored test.csv, so they can trail the raw posteriors here; the shipped heads are fitted on the test.csv
posteriors of all folds instead.

Fusion ${pct(r.meanAccuracy)} % vs best single model (${r.bestSingle.id}) ${pct(r.bestSingle.meanAccuracy)} %: ${r.gainOverBestSingle >= 0 ? '+' : ''}${pct(r.gainOverBestSingle)} points.

## Fusion confusion matrix and per-class metrics
${classMetricsMarkdown(r.metrics)}
`;
}
