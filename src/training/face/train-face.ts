import { mkdirSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AU_COLUMNS, EMOTIONS, AU_VECTOR_LENGTH } from '../../protocol/labels.js';
import { createInProcessRunner } from '../../models/onnx-runner-inprocess.js';
import { FACE_MANIFEST_FORMAT, type FaceManifest } from '../../models/face/manifest.js';
import { applyMinMax, fitMinMax } from '../../models/face/minmax.js';
import { loadFolds, RAVDESS_DIR } from '../ravdess.js';
import { loadClipMeanAus, CLIP_MEAN_AUS_PATH } from './au-data.js';
import { classMetrics, classMetricsMarkdown, rowsMarkdown, type ClassMetrics, type CvRow } from './cv-report.js';
import { exportMlpOnnx, STATIC_INPUT, STATIC_OUTPUT } from './export-onnx.js';
import { SEQ_INPUT, SEQ_MASK, SEQ_OUTPUT } from './export-bilstm-onnx.js';
import { faceModelCard } from './model-card.js';
import { commonReportFields, type CommonReportFields } from './report-common.js';
import { trainMlp } from './mlp.js';
import { runStaticCv, faceBaseName } from './static-cv.js';
import { STATIC_MODEL_SPECS } from './static-models.js';
import { loadPerFrameAus, type AuSequence } from './per-frame-aus.js';
import { runSequenceCv, exportSequenceModel } from './sequence-cv.js';

/** The static model the server runs (the paper's best static row), and the face base models whose posteriors are written. */
export const SHIPPED_STATIC = 'mlp80-norm';
export const FACE_BASES = ['mlp80-norm', 'svc-c1-norm'];
export const SEQUENCE_ID = 'bilstm-attention';
export const PAPER_SEQUENCE_ACCURACY = 0.6213;

/** Where per-frame OpenFace CSVs for RAVDESS would be (one `<clip>.csv` per video); absent in this checkout. */
export const PER_FRAME_AU_DIR = join(RAVDESS_DIR, 'openface', 'per-frame');

export function perFrameAuAvailable(dir = PER_FRAME_AU_DIR): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.csv'));
}

export interface TrainFaceOptions {
  cv: boolean;
  out: string;
  posteriorsDir: string | null;
  exportModel: boolean;
  only?: string[];
  seed: number;
  clipsPath?: string;
  log: (msg: string) => void;
}

export interface FaceReport extends CommonReportFields {
  task: 'face';
  generatedAt: string;
  data: string;
  protocol: string;
  /** The best static row: its folds, mean and CI (fractions), confusion and per-class metrics below. */
  model: string;
  meanAccuracy: number;
  ci95: number;
  folds: CvRow['folds'];
  metrics: ClassMetrics;
  shipped: { id: string; row: CvRow | null; metrics: ClassMetrics | null };
  rows: CvRow[];
  sequence: { id: string; paperAccuracy: number; status: 'trained' | 'not-run' | 'no-per-frame-data'; note: string };
  posteriors: string[];
}

export async function trainFace(o: TrainFaceOptions): Promise<{ report: FaceReport | null }> {
  const clips = loadClipMeanAus(o.clipsPath ?? CLIP_MEAN_AUS_PATH);
  const folds = loadFolds();
  mkdirSync(o.out, { recursive: true });
  const seqAvailable = perFrameAuAvailable();
  const seqs: AuSequence[] | null = seqAvailable ? loadPerFrameAus(PER_FRAME_AU_DIR) : null;
  const rel = (p: string) => relative(process.cwd(), p) || p;
  const sequenceNote = seqAvailable
    ? `trained on the per-frame AU sequences in ${rel(PER_FRAME_AU_DIR)} (see report.json for its CV row)`
    : `not trained: per-frame AU sequences for RAVDESS are not available (${rel(PER_FRAME_AU_DIR)} is absent; ../shared holds only clip means). `
      + 'The server falls back to the static model on the window\'s mean AUs. Nothing is trained on invented data.';
  let report: FaceReport | null = null;
  if (o.cv) {
    const specs = o.only ? STATIC_MODEL_SPECS.filter((s) => o.only!.includes(s.id)) : STATIC_MODEL_SPECS;
    if (specs.length === 0) throw new Error(`--only matched no model (known: ${STATIC_MODEL_SPECS.map((s) => s.id).join(', ')})`);
    const { rows, pooled } = await runStaticCv(clips, folds, specs, {
      posteriorSpecs: new Set(FACE_BASES), posteriorsDir: o.posteriorsDir ?? undefined, seed: o.seed, log: o.log,
    });
    if (seqs) {
      o.log(`bi-LSTM + attention on ${seqs.length} per-frame AU sequences (this is slow on the wasm backend)`);
      rows.push(await runSequenceCv(seqs, folds, { posteriorsDir: o.posteriorsDir ?? undefined, innerPosteriors: true, seed: o.seed, log: o.log }));
    }
    const best = rows.reduce((a, b) => (b.meanAccuracy > a.meanAccuracy ? b : a));
    const shippedRow = rows.find((r) => r.id === SHIPPED_STATIC) ?? null;
    const metricsOf = (id: string) => classMetrics(pooled.get(id)!.truth, pooled.get(id)!.predicted);
    report = {
      ...commonReportFields(metricsOf(best.id)),
      task: 'face', generatedAt: new Date().toISOString(),
      data: `${rel(o.clipsPath ?? CLIP_MEAN_AUS_PATH)} (${clips.length} clips, 35 clip-mean AUs)`,
      protocol: 'subject-wise 5-fold CV, validation actors ' + folds.map((f, k) => `F${k} {${f.join(',')}}`).join(' ') + '; min-max fitted on the training folds only; mean of fold accuracies, 95 % CI = 1.96·sqrt(p(1-p)/N), N = 1440',
      model: best.id, meanAccuracy: best.meanAccuracy, ci95: best.ci95, folds: best.folds, metrics: metricsOf(best.id),
      shipped: { id: SHIPPED_STATIC, row: shippedRow, metrics: shippedRow ? metricsOf(SHIPPED_STATIC) : null },
      rows,
      sequence: { id: SEQUENCE_ID, paperAccuracy: PAPER_SEQUENCE_ACCURACY, status: seqs ? 'trained' : 'no-per-frame-data', note: sequenceNote },
      posteriors: o.posteriorsDir ? FACE_BASES.filter((b) => specs.some((s) => s.id === b)).map((b) => rel(join(o.posteriorsDir!, faceBaseName(b)))) : [],
    };
    writeFileSync(join(o.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(o.out, 'report.md'), faceReportMarkdown(report));
    o.log(`best: ${best.label} ${(100 * best.meanAccuracy).toFixed(2)} % ± ${(100 * best.ci95).toFixed(2)}; report in ${o.out}`);
  }
  if (o.exportModel) {
    const sequence = seqs ? await exportSequenceModel(seqs, o.out, { seed: o.seed, log: o.log }) : null;
    await exportShippedStatic(clips.map((c) => c.aus), clips.map((c) => c.label), o, report, sequenceNote, sequence);
  }
  return { report };
}

async function exportShippedStatic(
  x: Float32Array[], y: number[], o: TrainFaceOptions, report: FaceReport | null, sequenceNote: string,
  sequence: { onnx: string; normaliser: string; maxFrames: number } | null,
): Promise<void> {
  const normaliser = fitMinMax(x);
  const xn = x.map((r) => applyMinMax(normaliser, r));
  const mlp = await trainMlp(xn, y, { hidden: [80], seed: o.seed });
  const tfProbs = await mlp.predictProba(xn);
  mlp.dispose();
  const onnx = exportMlpOnnx(mlp.layers, `emostream face static MLP(80) on min-max clip-mean AUs; RAVDESS CC BY-NC-SA 4.0`);
  writeFileSync(join(o.out, 'static-mlp80.onnx'), onnx);
  writeFileSync(join(o.out, 'normaliser.json'), JSON.stringify({ columns: AU_COLUMNS, min: normaliser.min, max: normaliser.max }, null, 2) + '\n');
  // Parity of the exported graph against TensorFlow.js on the training clips.
  const runner = await createInProcessRunner(onnx);
  const flat = new Float32Array(xn.length * AU_VECTOR_LENGTH);
  xn.forEach((r, i) => flat.set(r, i * AU_VECTOR_LENGTH));
  const res = await runner.run({ [STATIC_INPUT]: { data: flat, dims: [xn.length, AU_VECTOR_LENGTH] } });
  await runner.dispose();
  let maxAbs = 0;
  tfProbs.forEach((p, i) => p.forEach((v, k) => { maxAbs = Math.max(maxAbs, Math.abs(v - res[STATIC_OUTPUT].data[i * 8 + k])); }));
  if (maxAbs > 1e-4) throw new Error(`exported static model differs from TensorFlow.js by ${maxAbs}`);
  const manifest: FaceManifest = {
    format: FACE_MANIFEST_FORMAT, labels: [...EMOTIONS], auColumns: [...AU_COLUMNS],
    static: { onnx: 'static-mlp80.onnx', normaliser: 'normaliser.json', input: STATIC_INPUT, output: STATIC_OUTPUT, spec: SHIPPED_STATIC },
    sequence: sequence ? { ...sequence, input: SEQ_INPUT, mask: SEQ_MASK, output: SEQ_OUTPUT } : null,
  };
  writeFileSync(join(o.out, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(o.out, 'README.md'), faceModelCard({
    shipped: SHIPPED_STATIC, row: report?.shipped.row ?? null, sequenceNote, trainedOn: x.length, epochs: mlp.epochs, onnxParityMaxAbs: maxAbs,
  }));
  o.log(`exported ${join(o.out, 'static-mlp80.onnx')} (${mlp.epochs} epochs, ONNX parity ${maxAbs.toExponential(2)})`);
}

export function faceReportMarkdown(r: FaceReport): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  const seqRow: CvRow = { id: r.sequence.id, label: 'bi-LSTM (2 x 50) + attention, sequential', paperAccuracy: r.sequence.paperAccuracy, folds: [], meanAccuracy: NaN, ci95: NaN, n: 0 };
  return `# Face (Action Units) — subject-wise 5-fold CV

Generated ${r.generatedAt}. Data: ${r.data}.
Protocol: ${r.protocol}.

## Paper Table 2 (static part) beside ours
${rowsMarkdown(r.sequence.status === 'trained' ? r.rows : [...r.rows, seqRow], { [r.sequence.id]: `no per-frame AU data available: not trained` })}

Paper figures other than MLP(80) min-max (60.22), SVC C=1 min-max (59.93) and SVC C=1 without normalisation (54.88)
are not available offline ("—").

Sequence model: ${r.sequence.note}

## Best: ${r.model} — ${pct(r.meanAccuracy)} % ± ${pct(r.ci95)}
${classMetricsMarkdown(r.metrics)}
${r.shipped.row && r.shipped.metrics && r.shipped.id !== r.model ? `
## Shipped (server default): ${r.shipped.id} — ${pct(r.shipped.row.meanAccuracy)} % ± ${pct(r.shipped.row.ci95)}
${classMetricsMarkdown(r.shipped.metrics)}
` : ''}
Out-of-fold posteriors for fusion: ${r.posteriors.join(', ') || 'not written'} (test.csv: model trained on the fold's
training actors; train.csv: inner subject-wise 5-fold over the training actors).
`;
}
