import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { writePosteriorsCsv, type PosteriorRow } from '../posteriors.js';
import { argmax } from '../metrics.js';
import { cvRow, type CvRow } from './cv-report.js';
import { innerActorFolds } from './inner-split.js';
import type { AuSequence } from './per-frame-aus.js';
import { trainBiLstm, predictBiLstm, disposeBiLstm, type BiLstmTrainOptions } from './train-bilstm.js';
import { biLstmWeights, BILSTM_LAYERS, BILSTM_UNITS } from './bilstm.js';
import { exportBiLstmOnnx } from './export-bilstm-onnx.js';

export const SEQUENCE_BASE = 'face-bilstm';
const MAX_FRAMES = 300;

/** Training actors split for early stopping: the last inner group validates, the rest trains. */
function splitForEarlyStopping(seqs: AuSequence[], salt: number): { fit: AuSequence[]; val: AuSequence[] } {
  const groups = innerActorFolds(seqs.map((s) => s.actor), 5);
  const val = new Set(groups[salt % groups.length]);
  return { fit: seqs.filter((s) => !val.has(s.actor)), val: seqs.filter((s) => val.has(s.actor)) };
}

/**
 * The paper's subject-wise CV of the bi-LSTM + attention on per-frame AUs. Early stopping uses an inner group of the
 * training actors (never the fold's test actors). Writes `<posteriorsDir>/face-bilstm/fold<k>/test.csv` and, with
 * `innerPosteriors`, out-of-fold train.csv by inner subject-wise folds (5 more trainings per fold).
 */
export async function runSequenceCv(
  seqs: AuSequence[], folds: number[][], o: BiLstmTrainOptions & { posteriorsDir?: string; innerPosteriors?: boolean } = {},
): Promise<CvRow> {
  const perFold: Parameters<typeof cvRow>[3] = [];
  for (let k = 0; k < folds.length; k++) {
    const valActors = new Set(folds[k]);
    const train = seqs.filter((s) => !valActors.has(s.actor));
    const test = seqs.filter((s) => valActors.has(s.actor));
    const { fit, val } = splitForEarlyStopping(train, k);
    const model = await trainBiLstm(fit, val, { ...o, maxFrames: MAX_FRAMES, seed: (o.seed ?? 0) * 100 + k });
    const probs = await predictBiLstm(model.params, model.normaliser, test, MAX_FRAMES);
    disposeBiLstm(model.params);
    perFold.push({ fold: k, validationActors: folds[k], truth: test.map((s) => s.label), predicted: probs.map(argmax) });
    o.log?.(`bi-LSTM fold ${k}: best epoch ${model.bestEpoch}, val F1 ${model.bestValF1.toFixed(4)}`);
    if (o.posteriorsDir) {
      const dir = join(o.posteriorsDir, SEQUENCE_BASE, `fold${k}`);
      writePosteriorsCsv(join(dir, 'test.csv'), test.map((s, i) => ({ clipId: s.clipId, probs: probs[i] })));
      if (o.innerPosteriors) {
        const rows: PosteriorRow[] = [];
        const groups = innerActorFolds(train.map((s) => s.actor), 5);
        for (let g = 0; g < groups.length; g++) {
          const held = new Set(groups[g]);
          const rest = train.filter((s) => !held.has(s.actor));
          const inner = splitForEarlyStopping(rest, g);
          const m = await trainBiLstm(inner.fit, inner.val, { ...o, maxFrames: MAX_FRAMES, seed: (o.seed ?? 0) * 100 + k * 10 + g });
          const on = train.filter((s) => held.has(s.actor));
          (await predictBiLstm(m.params, m.normaliser, on, MAX_FRAMES)).forEach((p, i) => rows.push({ clipId: on[i].clipId, probs: p }));
          disposeBiLstm(m.params);
        }
        writePosteriorsCsv(join(dir, 'train.csv'), rows.sort((a, b) => a.clipId.localeCompare(b.clipId)));
      }
    }
  }
  return cvRow('bilstm-attention', 'bi-LSTM (2 x 50) + attention, sequential', 0.6213, perFold);
}

/** Trains the shipped sequence model on all clips (early stopping on one actor group) and writes ONNX + normaliser. */
export async function exportSequenceModel(seqs: AuSequence[], outDir: string, o: BiLstmTrainOptions = {}): Promise<{ onnx: string; normaliser: string; maxFrames: number }> {
  const { fit, val } = splitForEarlyStopping(seqs, 0);
  const model = await trainBiLstm(fit, val, { ...o, maxFrames: MAX_FRAMES });
  const onnx = exportBiLstmOnnx(await biLstmWeights(model.params), BILSTM_LAYERS, BILSTM_UNITS, 'emostream face bi-LSTM + attention; RAVDESS CC BY-NC-SA 4.0');
  disposeBiLstm(model.params);
  writeFileSync(join(outDir, 'sequence-bilstm.onnx'), onnx);
  writeFileSync(join(outDir, 'sequence-normaliser.json'), JSON.stringify(model.normaliser, null, 2) + '\n');
  return { onnx: 'sequence-bilstm.onnx', normaliser: 'sequence-normaliser.json', maxFrames: MAX_FRAMES };
}
