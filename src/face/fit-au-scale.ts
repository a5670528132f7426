/**
 * Fits src/face/au-scale.json, the constants that put the geometric AUs on OpenFace's scale:
 *   1. runs the face pipeline (detector + FaceMesh, in-process) over the labelled talking-face clips in ../shared/faces
 *      at 10 fps and measures the geometry of the largest face in every frame;
 *   2. prior = mean geometry of the neutral clips' frames (the population's resting face for calibration);
 *   3. replays every clip through the per-track calibration exactly as a session would and collects raw activations;
 *   4. per intensity column, a linear map raw -> intensity whose clip means have the mean and standard deviation of
 *      OpenFace 2.0's clip means over RAVDESS (../shared/ravdess/openface/clip-mean-aus.csv): both are acted emotional
 *      speech, so the face models trained on OpenFace AUs see values on the scale they were trained on;
 *   5. per presence column, the threshold at which the fraction of frames marked present equals OpenFace's mean.
 * Run: node --import tsx src/face/fit-au-scale.ts [../shared]
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AU_INTENSITY_COLUMNS, AU_PRESENCE_COLUMNS } from '../protocol/labels.js';
import { initTf } from '../training/tf.js';
import { NeutralBaseline } from './au-calibration.js';
import { rawActivations } from './au-estimator.js';
import { computeGeometry, GEOMETRY_FEATURES, GEOMETRY_LENGTH } from './au-geometry.js';
import { AU_SCALE_PATH } from './au-scale.js';
import { extractJpegFrames } from './clip-frames.js';
import { parseClipLabel } from './clip-labels.js';
import { DEFAULT_FACE_CONFIG, resolveFaceConfig } from './config.js';
import { FaceEngine } from './engine.js';
import { defaultModelDir, FaceModels } from './face-models.js';

const shared = process.argv[2] ?? new URL('../../../shared', import.meta.url).pathname;
const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
const std = (a: number[]): number => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));

function openFaceTargets(): Record<string, number[]> {
  const lines = readFileSync(join(shared, 'ravdess/openface/clip-mean-aus.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(';');
  const cols: Record<string, number[]> = {};
  for (const c of [...AU_INTENSITY_COLUMNS, ...AU_PRESENCE_COLUMNS]) cols[c] = [];
  for (const line of lines.slice(1)) {
    const v = line.split(';');
    for (const c of Object.keys(cols)) cols[c].push(Number(v[header.indexOf(c)]));
  }
  return cols;
}

const calibration = { historyFrames: DEFAULT_FACE_CONFIG.calibrationHistoryFrames, priorWeightFrames: DEFAULT_FACE_CONFIG.calibrationPriorFrames };
const tf = await initTf();
const engine = new FaceEngine(tf, await FaceModels.load(tf, defaultModelDir(), false), resolveFaceConfig({ expression: false }));
const clips: { name: string; neutral: boolean; features: Float32Array[] }[] = [];
for (const sub of ['faces/cremad', 'faces/mead']) {
  for (const file of readdirSync(join(shared, sub)).sort()) {
    const label = parseClipLabel(file);
    if (!label || !/\.(flv|mp4)$/.test(file)) continue;
    const frames = await extractJpegFrames(join(shared, sub, file), 10);
    const features: Float32Array[] = [];
    for (const fr of frames) {
      const r = await engine.analyze(file, { format: 'jpeg', width: fr.width, height: fr.height, payload: fr.jpeg, ptsUs: fr.ptsUs });
      const g = r.faces[0] ? computeGeometry(r.faces[0].mesh) : null;
      if (g) features.push(g.features);
    }
    clips.push({ name: file, neutral: label.source.toLowerCase().startsWith('neu'), features });
    process.stderr.write(`${file}: ${features.length}/${frames.length} frames with a face\n`);
  }
}
const neutralFrames = clips.filter((c) => c.neutral).flatMap((c) => c.features);
if (neutralFrames.length === 0) throw new Error('no neutral frames found');
const prior = new Float32Array(GEOMETRY_LENGTH);
for (let k = 0; k < GEOMETRY_LENGTH; k++) prior[k] = mean(neutralFrames.map((f) => f[k]));

// Replay each clip as its own session (the calibration a session would have).
const n = AU_INTENSITY_COLUMNS.length;
const clipMeans: number[][] = Array.from({ length: n }, () => []);
const frameRaw: number[][] = Array.from({ length: n + 1 }, () => []);
for (const c of clips) {
  const base = new NeutralBaseline({ historyFrames: calibration.historyFrames, priorWeightFrames: calibration.priorWeightFrames, prior });
  const sums = new Float64Array(n);
  for (const f of c.features) {
    const raw = rawActivations(f, base.baseline());
    base.push(f);
    for (let i = 0; i <= n; i++) frameRaw[i].push(raw[i]);
    for (let i = 0; i < n; i++) sums[i] += raw[i];
  }
  if (c.features.length) for (let i = 0; i < n; i++) clipMeans[i].push(sums[i] / c.features.length);
}

const targets = openFaceTargets();
const intensity: Record<string, { offset: number; gain: number; openFaceMean: number; openFaceStd: number }> = {};
const gains: number[] = [], offsets: number[] = [];
AU_INTENSITY_COLUMNS.forEach((col, i) => {
  const tMean = mean(targets[col]), tStd = std(targets[col]);
  const rMean = mean(clipMeans[i]), rStd = std(clipMeans[i]);
  const gain = rStd > 1e-6 ? tStd / rStd : 0;
  const offset = tMean - gain * rMean;
  gains.push(gain);
  offsets.push(offset);
  intensity[col] = { offset: +offset.toFixed(5), gain: +gain.toFixed(4), openFaceMean: +tMean.toFixed(4), openFaceStd: +tStd.toFixed(4) };
});
const presence: Record<string, { threshold: number; openFaceMeanFraction: number }> = {};
for (const col of AU_PRESENCE_COLUMNS) {
  const target = mean(targets[col]);
  const ri = AU_INTENSITY_COLUMNS.indexOf(col.replace('_c', '_r') as (typeof AU_INTENSITY_COLUMNS)[number]);
  const values = (ri >= 0 ? frameRaw[ri].map((r) => Math.min(5, Math.max(0, offsets[ri] + gains[ri] * r))) : frameRaw[n]).sort((a, b) => a - b);
  // Threshold at the (1 - target) quantile; never at or below 0 so a resting face is not "present".
  const q = values[Math.min(values.length - 1, Math.floor((1 - target) * values.length))];
  // AU28 (lip suck) is all but absent in RAVDESS: demand that the red lips lose at least half their height.
  const threshold = Math.max(q, ri >= 0 ? 0.05 : 0.5);
  presence[col] = { threshold: +threshold.toFixed(5), openFaceMeanFraction: +target.toFixed(4) };
}
const out = {
  source: `fit-au-scale.ts on ${clips.length} clips (${clips.reduce((s, c) => s + c.features.length, 0)} frames) of ../shared/faces (CREMA-D 1001, MEAD W009/W011), targets OpenFace 2.0 RAVDESS clip means, ${new Date().toISOString().slice(0, 10)}`,
  calibration,
  features: [...GEOMETRY_FEATURES],
  prior: Array.from(prior, (v) => +v.toFixed(5)),
  intensity,
  presence,
};
writeFileSync(AU_SCALE_PATH, JSON.stringify(out, null, 1) + '\n');
process.stderr.write(`wrote ${AU_SCALE_PATH.pathname}\n`);
