import { AU_INTENSITY_COLUMNS, AU_PRESENCE_COLUMNS, AU_VECTOR_LENGTH } from '../protocol/labels.js';
import { NeutralBaseline } from './au-calibration.js';
import { AU28_DEFINITION, AU_DEFINITIONS } from './au-definitions.js';
import { computeGeometry, type HeadPose } from './au-geometry.js';
import type { AuScale } from './au-scale.js';
import { DEFAULT_FACE_CONFIG } from './config.js';

const N_INTENSITY = AU_INTENSITY_COLUMNS.length;
const AU28_PRESENCE_INDEX = AU_PRESENCE_COLUMNS.indexOf('AU28_c');
/** Presence column -> its intensity column (-1 for AU28, which has no intensity). */
const PRESENCE_TO_INTENSITY = AU_PRESENCE_COLUMNS.map((c) => AU_INTENSITY_COLUMNS.indexOf(c.replace('_c', '_r') as (typeof AU_INTENSITY_COLUMNS)[number]));
/** Beyond this head rotation (radians, ~30 deg) a frame does not update the person's baseline. */
const MAX_CALIBRATION_ANGLE = 0.5;

export interface AuFrame {
  /** 35 OpenFace columns. */
  aus: Float32Array;
  /** 17 raw activations (before the intensity map), AU_INTENSITY_COLUMNS order, then AU28's. */
  raw: Float32Array;
  pose: HeadPose;
}

/** Raw activations of every AU for measurements `f` against resting measurements `b`. */
export function rawActivations(f: Float32Array, b: Float32Array): Float32Array {
  const raw = new Float32Array(N_INTENSITY + 1);
  for (let i = 0; i < N_INTENSITY; i++) raw[i] = AU_DEFINITIONS[i].raw(f, b);
  raw[N_INTENSITY] = AU28_DEFINITION.raw(f, b);
  return raw;
}

/** Raw activations -> the 35 OpenFace columns (intensities clamped to 0-5, presences 0/1). */
export function scaleActivations(raw: Float32Array, scale: AuScale): Float32Array {
  const aus = new Float32Array(AU_VECTOR_LENGTH);
  for (let i = 0; i < N_INTENSITY; i++) aus[i] = Math.min(5, Math.max(0, scale.offset[i] + scale.gain[i] * raw[i]));
  for (let j = 0; j < AU_PRESENCE_COLUMNS.length; j++) {
    const v = j === AU28_PRESENCE_INDEX ? raw[N_INTENSITY] : aus[PRESENCE_TO_INTENSITY[j]];
    aus[N_INTENSITY + j] = v >= scale.threshold[j] ? 1 : 0;
  }
  return aus;
}

/**
 * One tracked face's AU estimator: landmarks -> geometry -> person-specific baseline -> raw activations -> OpenFace
 * columns. The baseline sees the frame after it is scored, so a frame is measured against the face before it.
 */
export class AuEstimator {
  private readonly baseline: NeutralBaseline;

  constructor(
    private readonly scale: AuScale,
    opts: { historyFrames?: number; priorWeightFrames?: number } = {},
  ) {
    this.baseline = new NeutralBaseline({
      historyFrames: opts.historyFrames ?? DEFAULT_FACE_CONFIG.calibrationHistoryFrames,
      priorWeightFrames: opts.priorWeightFrames ?? DEFAULT_FACE_CONFIG.calibrationPriorFrames,
      prior: scale.prior,
    });
  }

  /** Null when the landmarks are degenerate (the face is then reported without AUs by the caller). */
  estimate(mesh: Float32Array): AuFrame | null {
    const g = computeGeometry(mesh);
    if (!g) return null;
    const raw = rawActivations(g.features, this.baseline.baseline());
    const aus = scaleActivations(raw, this.scale);
    if (Math.abs(g.pose.yaw) < MAX_CALIBRATION_ANGLE && Math.abs(g.pose.pitch) < MAX_CALIBRATION_ANGLE) this.baseline.push(g.features);
    return { aus, raw, pose: g.pose };
  }

  calibrationFrames(): number {
    return this.baseline.frames();
  }

  reset(): void {
    this.baseline.reset();
  }
}
