import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { EMOTIONS } from '../../protocol/labels.js';
import { accuracy, argmax, ci95, confusionMatrix, macroF1, perClassMetrics } from '../metrics.js';
import type { CvResult, FoldResult } from './cv.js';
import type { TrainConfig } from './train.js';
import type { FunctionalCvConfig } from './functional-cv.js';

/** Luna-Jiménez et al. 2022, Table 1 (speech, RAVDESS, subject-wise 5-fold CV), accuracy in %. */
export const PAPER_TABLE1 = [
  { method: 'ZeroR (majority class)', accuracy: 13.33 },
  { method: 'Human raters (voice only)', accuracy: 67.0 },
  { method: 'wav2vec2 xlsr-53 feature extraction + MLP(80) (best)', accuracy: 56.53 },
  { method: 'wav2vec2 xlsr-53 fine-tuned', accuracy: 81.82 },
];

export interface SpeechCvReport {
  task: string;
  createdAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string };
  clips: number;
  meanAccuracy: number;
  ci95: number;
  pooledAccuracy: number;
  macroF1: number;
  windowAccuracy: number;
  windowCi95: number;
  windows: number;
  /** Each fold as the CV returned it (training actors omitted: they are the other folds'), core-seconds rounded. */
  folds: Omit<FoldResult, 'trainActors'>[];
  /** With a functionals model: mean over folds of each model alone (meanAccuracy is the shipped combination). */
  components?: { cnnMeanAccuracy: number; functionalsMeanAccuracy: number; cnnWindowAccuracy: number; functionalsWindowAccuracy: number; shippedWeightCnn: number };
  confusion: number[][];
  windowConfusion: number[][];
  perClass: { label: string; precision: number; recall: number; f1: number; support: number }[];
  labels: readonly string[];
  config: { train: TrainConfig; seeds: number; jobs: number; innerSplits: number; windowSamples: number; hopSamples: number; priorWeightFrames: number; functionals?: FunctionalCvConfig };
  /** Wall time of the run (features, all trainings including the inner splits and the shipped model if exported). */
  seconds: number;
  /** Sum of the tasks' times on one core each. */
  coreSeconds: number;
  notes: string[];
}

export function buildReport(cv: CvResult, config: SpeechCvReport['config'], command: string, notes: string[], wallSeconds = cv.seconds): SpeechCvReport {
  const truth = cv.clipPosteriors.map((c) => c.item.label);
  const pred = cv.clipPosteriors.map((c) => argmax(c.probs));
  const meanAccuracy = cv.folds.reduce((s, f) => s + f.accuracy, 0) / Math.max(1, cv.folds.length);
  const wTruth = cv.windowPredictions.map((w) => w.label);
  const wPred = cv.windowPredictions.map((w) => argmax(w.probs));
  const windowAccuracy = accuracy(wTruth, wPred);
  const confusion = confusionMatrix(truth, pred);
  const meanOf = (f: (x: CvResult['folds'][number]) => number) => cv.folds.reduce((s, x) => s + f(x), 0) / Math.max(1, cv.folds.length);
  const windowsOf = (f: (x: CvResult['folds'][number]) => number) => cv.folds.reduce((s, x) => s + f(x) * x.windows, 0) / Math.max(1, cv.folds.reduce((s, x) => s + x.windows, 0));
  const components = cv.functionals && cv.folds.length > 0 ? {
    cnnMeanAccuracy: meanOf((f) => f.cnnAccuracy), functionalsMeanAccuracy: meanOf((f) => f.functionalsAccuracy ?? NaN),
    cnnWindowAccuracy: windowsOf((f) => f.cnnWindowAccuracy), functionalsWindowAccuracy: windowsOf((f) => f.functionalsWindowAccuracy ?? NaN),
    shippedWeightCnn: cv.functionals.weightCnn,
  } : undefined;
  return {
    task: 'speech emotion recognition, RAVDESS speech (8 classes), subject-wise 5-fold CV (paper folds)',
    createdAt: new Date().toISOString(),
    command,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    clips: truth.length,
    meanAccuracy,
    ci95: ci95(meanAccuracy, truth.length),
    pooledAccuracy: accuracy(truth, pred),
    macroF1: macroF1(truth, pred),
    windowAccuracy,
    windowCi95: ci95(windowAccuracy, wTruth.length),
    windows: wTruth.length,
    // Optional fields of a CNN-only run are undefined and drop out of the JSON.
    folds: cv.folds.map(({ trainActors: _trainActors, ...f }) => ({ ...f, coreSeconds: Math.round(f.coreSeconds) })),
    ...(components ? { components } : {}),
    confusion,
    windowConfusion: confusionMatrix(wTruth, wPred),
    perClass: perClassMetrics(confusion).map((p, i) => ({ label: EMOTIONS[i], ...p })),
    labels: EMOTIONS,
    config,
    seconds: Math.round(wallSeconds),
    coreSeconds: Math.round(cv.coreSeconds),
    notes,
  };
}

const pct = (x: number) => (x * 100).toFixed(2);

export function reportMarkdown(r: SpeechCvReport): string {
  const lines: string[] = [];
  lines.push('# Speech emotion recognition: subject-wise 5-fold CV on RAVDESS speech', '');
  lines.push(`Command: \`${r.command}\`  `);
  const k = r.config.seeds;
  lines.push(`Run: ${r.createdAt}, ${r.machine.cpus} x ${r.machine.cpuModel}, Node ${r.machine.node}: **${(r.seconds / 60).toFixed(1)} min wall** with ${r.config.jobs} parallel training worker(s) (${(r.coreSeconds / 60).toFixed(1)} core-minutes; inner splits${r.command.includes('--export') ? ' and the shipped all-actors model' : ''} included).  `);
  lines.push(`Model: ${k > 1 ? `seed ensemble of ${k} networks per training (outer, inner and shipped alike); a clip's or window's posterior is the mean of the members' posteriors` : 'one network per training'}${r.components ? `, combined with a ${r.config.functionals?.subsetMembers?.seeds ? `${r.config.functionals.seeds + r.config.functionals.subsetMembers.seeds}-member mixed-input MLP ensemble (${r.config.functionals.seeds} on all functionals, ${r.config.functionals.subsetMembers.seeds} on the first ${r.config.functionals.subsetMembers.dims})` : `${r.config.functionals?.seeds}-seed MLP`} on window functionals (log-mel and pitch statistics${r.config.functionals?.voiceQuality ? ', voice quality' : ''}${r.config.functionals?.spectroTemporal ? ', spectro-temporal' : ''}${r.config.functionals?.shape ? ', contour and distribution shape' : ''}${r.config.functionals?.speakerNorm ? (r.config.functionals.speakerNormKeepRaw ? ', raw and z-scored per speaker' : ', z-scored per speaker') : ''}): posterior ∝ p_cnn^w · p_functionals^(1-w), w chosen per fold on the inner splits (shipped w = ${r.components.shippedWeightCnn})` : ''}.`, '');
  lines.push(`**Mean accuracy over folds: ${pct(r.meanAccuracy)} % ± ${pct(r.ci95)}** (95 % CI, normal approximation over the ${r.clips} clips, as in the paper).  `);
  lines.push(`Pooled accuracy ${pct(r.pooledAccuracy)} %, macro-F1 ${pct(r.macroF1)} %.  `);
  lines.push(`**Per-window accuracy (streaming, 3 s windows, causal running speaker normaliser): ${pct(r.windowAccuracy)} % ± ${pct(r.windowCi95)}** over ${r.windows} windows.`, '');
  const c = r.components;
  if (c) {
    lines.push('| model (same folds, same clips) | mean clip accuracy % | window accuracy % |', '|---|---|---|');
    lines.push(`| **CNN + functionals (shipped)** | **${pct(r.meanAccuracy)}** | **${pct(r.windowAccuracy)}** |`);
    lines.push(`| CNN ensemble alone | ${pct(c.cnnMeanAccuracy)} | ${pct(c.cnnWindowAccuracy)} |`);
    lines.push(`| functionals MLP alone | ${pct(c.functionalsMeanAccuracy)} | ${pct(c.functionalsWindowAccuracy)} |`, '');
    lines.push('## Folds', '', '| fold | validation actors | clip accuracy % (combined) | CNN alone % | each CNN member % | functionals alone % | CNN weight w | inner splits: CNN / functionals / combined % | window accuracy % (combined / CNN / functionals) | windows | inner splits (train posteriors) | core-seconds |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const f of r.folds) {
      lines.push(`| ${f.fold} | ${f.validationActors.join(', ')} | ${pct(f.accuracy)} | ${pct(f.cnnAccuracy)} | ${f.memberAccuracies.map(pct).join(' / ')} | ${pct(f.functionalsAccuracy ?? NaN)} | ${f.weightCnn} | ${f.inner ? `${pct(f.inner.cnn)} / ${pct(f.inner.functionals)} / ${pct(f.inner.combined)}` : '-'} | ${pct(f.windowAccuracy)} / ${pct(f.cnnWindowAccuracy)} / ${pct(f.functionalsWindowAccuracy ?? NaN)} | ${f.windows} | ${f.innerSplits.map((s) => `{${s.join(',')}}`).join(' ')} | ${f.coreSeconds} |`);
    }
  } else {
    lines.push('## Folds', '', '| fold | validation actors | clip accuracy % | each member alone % | window accuracy % | windows | inner splits (train posteriors) | core-seconds |', '|---|---|---|---|---|---|---|---|');
    for (const f of r.folds) {
      lines.push(`| ${f.fold} | ${f.validationActors.join(', ')} | ${pct(f.accuracy)} | ${f.memberAccuracies.map(pct).join(' / ')} | ${pct(f.windowAccuracy)} | ${f.windows} | ${f.innerSplits.map((s) => `{${s.join(',')}}`).join(' ')} | ${f.coreSeconds} |`);
    }
  }
  if (r.folds.length > 0 && k > 1) {
    const single = r.folds.reduce((s, f) => s + f.memberAccuracies.reduce((a, b) => a + b, 0) / f.memberAccuracies.length, 0) / r.folds.length;
    lines.push('', `Mean accuracy of a single CNN member (average over members and folds): ${pct(single)} %; the CNN ensemble: ${pct(c ? c.cnnMeanAccuracy : r.meanAccuracy)} %.`);
  }
  lines.push('', '## Compared with the paper (Luna-Jiménez et al. 2022, Table 1)', '', '| method | accuracy % |', '|---|---|');
  for (const p of PAPER_TABLE1) lines.push(`| ${p.method} | ${p.accuracy.toFixed(2)} |`);
  if (c) {
    lines.push(`| **emostream CNN + functionals (this run, clip level)** | **${pct(r.meanAccuracy)} ± ${pct(r.ci95)}** |`);
    lines.push(`| emostream temporal CNN on log-mel alone (this run) | ${pct(c.cnnMeanAccuracy)} |`);
    lines.push(`| emostream functionals MLP alone (this run) | ${pct(c.functionalsMeanAccuracy)} |`);
  } else {
    lines.push(`| **emostream temporal CNN on log-mel (this run, clip level)** | **${pct(r.meanAccuracy)} ± ${pct(r.ci95)}** |`);
  }
  lines.push(`| emostream, per 3 s streaming window | ${pct(r.windowAccuracy)} ± ${pct(r.windowCi95)} |`);
  lines.push('', '## Confusion matrix (clips; rows = true, columns = predicted)', '');
  lines.push(`| true \\ pred | ${r.labels.join(' | ')} |`, `|---|${r.labels.map(() => '---').join('|')}|`);
  r.confusion.forEach((row, i) => lines.push(`| ${r.labels[i]} | ${row.join(' | ')} |`));
  lines.push('', '## Per class (clips)', '', '| class | precision % | recall % | F1 % | support |', '|---|---|---|---|---|');
  for (const p of r.perClass) lines.push(`| ${p.label} | ${pct(p.precision)} | ${pct(p.recall)} | ${pct(p.f1)} | ${p.support} |`);
  lines.push('', '## Confusion matrix (streaming windows)', '');
  lines.push(`| true \\ pred | ${r.labels.join(' | ')} |`, `|---|${r.labels.map(() => '---').join('|')}|`);
  r.windowConfusion.forEach((row, i) => lines.push(`| ${r.labels[i]} | ${row.join(' | ')} |`));
  lines.push('', '## Configuration', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  lines.push('## Method notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export function writeReport(dir: string, r: SpeechCvReport, extraMarkdown = ''): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(join(dir, 'report.md'), reportMarkdown(r) + extraMarkdown);
}
