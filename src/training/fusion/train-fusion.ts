import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMOTIONS } from '../../protocol/labels.js';
import { FUSION_FORMAT, validateFusionFile, type FusionFile } from '../../models/fusion/index.js';
import { loadFolds } from '../ravdess.js';
import { classMetricsMarkdown, rowsMarkdown, type ClassMetrics, type CvRow } from '../face/cv-report.js';
import { listBaseModels, loadBasePosteriors } from './dataset.js';
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
  if (o.cv) {
    const r = runFusionCv(models, numFolds, o.c);
    const bestSingle = r.singles.reduce((a, b) => (b.meanAccuracy > a.meanAccuracy ? b : a));
    report = {
      ...commonReportFields(r.fusionMetrics),
      task: 'fusion', generatedAt: new Date().toISOString(), posteriorsDir: o.posteriorsDir,
      baseModels: models.map((m) => ({ name: m.name, modality: m.modality })),
      protocol: `subject-wise ${numFolds}-fold CV; per fold the fusion is fitted on train.csv (out-of-fold posteriors of the training actors) and scored on test.csv; per-column min-max fitted on the training clips; multinomial LR, L2, C=${o.c} (0.5·‖W‖² + C·Σ CE, intercepts unpenalised)`,
      model: r.fusion.id, paperAccuracy: PAPER_FUSION_ACCURACY,
      meanAccuracy: r.fusion.meanAccuracy, ci95: r.fusion.ci95, folds: r.fusion.folds, metrics: r.fusionMetrics,
      bestSingle: { id: bestSingle.id, meanAccuracy: bestSingle.meanAccuracy },
      gainOverBestSingle: r.fusion.meanAccuracy - bestSingle.meanAccuracy,
      rows: [r.fusion, ...r.subsetHeads, ...r.singles], singleMetrics: r.singleMetrics,
    };
    writeFileSync(join(o.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(o.out, 'report.md'), fusionReportMarkdown(report));
    o.log(`fusion of ${names.join(' + ')}: ${(100 * report.meanAccuracy).toFixed(2)} % ± ${(100 * report.ci95).toFixed(2)} `
      + `(best single ${bestSingle.id} ${(100 * bestSingle.meanAccuracy).toFixed(2)} %); report in ${o.out}`);
    for (const row of report.rows) o.log(`  ${row.label}: ${(100 * row.meanAccuracy).toFixed(2)} %`);
  }
  let fusion: FusionFile | null = null;
  if (o.ship) {
    const heads = fitShippedHeads(models, numFolds, o.c);
    fusion = {
      format: FUSION_FORMAT, labels: [...EMOTIONS], heads,
      trainedOn: {
        posteriorsDir: o.posteriorsDir, baseModels: models.map((m) => ({ name: m.name, modality: m.modality })),
        rows: 'union of every fold\'s test.csv (each clip scored by a base model that never trained on its actor)', c: o.c,
      },
    };
    validateFusionFile(JSON.parse(JSON.stringify(fusion)), 'fusion.json (self-check)');
    writeFileSync(join(o.out, 'fusion.json'), JSON.stringify(fusion, null, 2) + '\n');
    writeFileSync(join(o.out, 'README.md'), fusionModelCard({ heads, models: models.map((m) => `${m.name} (${m.modality})`), report }));
    o.log(`wrote ${join(o.out, 'fusion.json')} with heads ${heads.map((h) => h.name).join(', ')}`);
  }
  return { report, fusion };
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

Generated ${r.generatedAt}. Posteriors: \`${r.posteriorsDir}\`; base models: ${r.baseModels.map((m) => `${m.name} (${m.modality})`).join(', ')}.
Protocol: ${r.protocol}.

## Fusion, subset heads and each base model alone (paper's fusion row: ${pct(r.paperAccuracy)} %)
${rowsMarkdown(r.rows)}

Fusion ${pct(r.meanAccuracy)} % vs best single model (${r.bestSingle.id}) ${pct(r.bestSingle.meanAccuracy)} %: ${r.gainOverBestSingle >= 0 ? '+' : ''}${pct(r.gainOverBestSingle)} points.

## Fusion confusion matrix and per-class metrics
${classMetricsMarkdown(r.metrics)}
`;
}
