import type { CvRow } from './cv-report.js';

const pct = (x: number): string => (100 * x).toFixed(2);

/** models/face/README.md: data, licence, folds, accuracy, input contract. */
export function faceModelCard(o: { shipped: string; row: CvRow | null; sequenceNote: string; trainedOn: number; epochs: number; onnxParityMaxAbs: number }): string {
  const acc = o.row
    ? `${pct(o.row.meanAccuracy)} % ± ${pct(o.row.ci95)} (95 % CI), per fold ${o.row.folds.map((f) => pct(f.accuracy)).join(' / ')} %; paper 60.22 %`
    : 'not measured in this run (see report.json)';
  return `# Face emotion model (Action Units) — model card

## What it is
- **Static model** (what the server runs while no sequence model is shipped): \`${o.shipped}\` — an MLP with one hidden layer of 80 ReLU units and a softmax
  over 8 emotions, trained with TensorFlow.js (adam, lr 1e-3, batch 200, <= 200 epochs, L2 alpha 1e-4, scikit-learn's
  MLPClassifier defaults) on the per-column min-max-normalised clip-mean AU vectors. File: \`static-mlp80.onnx\`
  (input \`aus_norm\` [batch, 35], output \`probs\` [batch, 8]); normaliser: \`normaliser.json\` ({min, max} per column,
  fitted on the training clips; x' = (x - min) / (max - min), not clipped).
- **Sequence model** (bi-LSTM 2 x 50 per direction + attention): ${o.sequenceNote}
- \`model.json\` is the manifest the server reads (\`loadFaceModel\` in src/models/face/index.ts).

## Data and licence
RAVDESS (Livingstone & Russo 2018, PLoS ONE 13(5): e0196391), audio-visual speech, 24 actors x 60 clips = 1,440 clips,
8 emotions. AUs: OpenFace 2.0 clip means published by Luna-Jiménez et al. (Appl. Sci. 2022, 12, 327).
**Licence: CC BY-NC-SA 4.0** — the data is non-commercial, share-alike; these weights are derived from it and inherit
the licence: non-commercial use only, with attribution, under the same licence.

## Evaluation
Subject-wise 5-fold CV with the paper's validation actors: F0 {2,5,14,15,16} F1 {3,6,7,13,18} F2 {10,11,12,19,20}
F3 {8,17,21,23,24} F4 {1,4,9,22}; normaliser fitted on the training folds only.
Accuracy of \`${o.shipped}\`: ${acc}. Full table (all Table 2 static rows, confusion matrix, per-class precision/recall):
\`report.md\` / \`report.json\`. Reproduce: \`npx emostream train face --cv --out models/face\`.

The shipped weights were trained on all ${o.trainedOn} clips (${o.epochs} epochs); ONNX vs TensorFlow.js max |diff| on
the training clips: ${o.onnxParityMaxAbs.toExponential(2)}.

## Input contract
\`AuWindow\`: the frames of one window, frames x 35 floats, row-major, columns in AU_COLUMNS order
(AU01_r..AU45_r intensities 0-5, then AU01_c..AU45_c presences 0-1). The static model averages the frames (so presences
become the fraction of frames, as in training), min-max normalises, and runs the MLP. A window with 0 frames gets a
uniform posterior. Output: 8 probabilities in EMOTIONS order (neutral, calm, happy, sad, angry, fearful, disgust, surprised).
AUs from another estimator than OpenFace 2.0 shift the input distribution: expect lower accuracy.
`;
}
