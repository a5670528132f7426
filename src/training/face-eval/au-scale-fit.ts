import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AU_INTENSITY_COLUMNS, AU_PRESENCE_COLUMNS } from '../../protocol/labels.js';
import { NeutralBaseline } from '../../face/au-calibration.js';
import { rawActivations } from '../../face/au-estimator.js';
import { GEOMETRY_FEATURES, GEOMETRY_LENGTH } from '../../face/au-geometry.js';
import { type AuScale, parseAuScale } from '../../face/au-scale.js';

const mean = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / Math.max(1, a.length);
};
const std = (a: number[]): number => {
  const m = mean(a);
  return Math.sqrt(mean(a.map((v) => (v - m) ** 2)));
};

/** One clip replayed as its own session: per frame the geometry and whether the frame may enter the baseline. */
export interface ScaleFitClip {
  features: Float32Array[];
  /** Per frame: true when the frame is kept out of the baseline (confident expression), as the estimator decides. */
  paused?: boolean[];
}

export interface CalibrationSettings {
  historyFrames: number;
  priorWeightFrames: number;
  pauseConfidence: number;
}

/** OpenFace 2.0 clip means of RAVDESS, per AU column (../shared/ravdess/openface/clip-mean-aus.csv). */
export function readOpenFaceTargets(shared: string): Record<string, number[]> {
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

/** Mean geometry of frames (the population's resting face when they are neutral frames). */
export function meanGeometry(frames: Float32Array[]): Float32Array {
  if (frames.length === 0) throw new Error('no frames to average');
  const prior = new Float32Array(GEOMETRY_LENGTH);
  for (let k = 0; k < GEOMETRY_LENGTH; k++) prior[k] = mean(frames.map((f) => f[k]));
  return prior;
}

/**
 * The au-scale.json content for clips replayed through the per-track calibration (each clip its own session): per
 * intensity column a linear map raw -> intensity whose clip means have OpenFace's RAVDESS mean and standard deviation
 * (unsupervised moment matching: no emotion labels are used), per presence column the threshold at which the share
 * of present frames equals OpenFace's. docs/aus.md section 5.
 */
export function fitAuScaleJson(clips: ScaleFitClip[], prior: Float32Array, calibration: CalibrationSettings, targets: Record<string, number[]>, source: string) {
  const n = AU_INTENSITY_COLUMNS.length;
  const clipMeans: number[][] = Array.from({ length: n }, () => []);
  const frameRaw: number[][] = Array.from({ length: n + 1 }, () => []);
  for (const c of clips) {
    const base = new NeutralBaseline({ historyFrames: calibration.historyFrames, priorWeightFrames: calibration.priorWeightFrames, prior });
    const sums = new Float64Array(n);
    c.features.forEach((f, i) => {
      const raw = rawActivations(f, base.baseline());
      if (!c.paused?.[i]) base.push(f);
      for (let k = 0; k <= n; k++) frameRaw[k].push(raw[k]);
      for (let k = 0; k < n; k++) sums[k] += raw[k];
    });
    if (c.features.length) for (let k = 0; k < n; k++) clipMeans[k].push(sums[k] / c.features.length);
  }
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
  return { source, calibration, features: [...GEOMETRY_FEATURES], prior: Array.from(prior, (v) => +v.toFixed(5)), intensity, presence };
}

export function fitAuScale(...args: Parameters<typeof fitAuScaleJson>): AuScale {
  return parseAuScale(fitAuScaleJson(...args));
}
