import { AU_INTENSITY_COLUMNS, AU_PRESENCE_COLUMNS, AU_VECTOR_LENGTH, EMOTIONS } from '../protocol/labels.js';
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
const NEUTRAL = EMOTIONS.indexOf('neutral');
const CALM = EMOTIONS.indexOf('calm');

export interface AuFrame {
  /** 35 OpenFace columns. */
  aus: Float32Array;
  /** 17 raw activations (before the intensity map), AU_INTENSITY_COLUMNS order, then AU28's. */
  raw: Float32Array;
  pose: HeadPose;
}

const isFrontal = (pose: HeadPose): boolean => Math.abs(pose.yaw) < MAX_CALIBRATION_ANGLE && Math.abs(pose.pitch) < MAX_CALIBRATION_ANGLE;

/**
 * Whether a frame may update the person's neutral baseline: the head roughly frontal (turned frames measure worst),
 * and no non-neutral class of the expression posterior (calm counts as neutral) at or above `pauseConfidence`.
 */
export function entersBaseline(pose: HeadPose, expression: ArrayLike<number> | null, pauseConfidence: number): boolean {
  if (!isFrontal(pose)) return false;
  if (!expression || pauseConfidence >= 1) return true;
  for (let i = 0; i < expression.length; i++) {
    if (i !== NEUTRAL && i !== CALM && expression[i] >= pauseConfidence) return false;
  }
  return true;
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

  private readonly pauseConfidence: number;
  private pausedFrames = 0;

  constructor(
    private readonly scale: AuScale,
    opts: { historyFrames?: number; priorWeightFrames?: number; pauseConfidence?: number } = {},
  ) {
    this.pauseConfidence = opts.pauseConfidence ?? DEFAULT_FACE_CONFIG.calibrationPauseConfidence;
    this.baseline = new NeutralBaseline({
      historyFrames: opts.historyFrames ?? DEFAULT_FACE_CONFIG.calibrationHistoryFrames,
      priorWeightFrames: opts.priorWeightFrames ?? DEFAULT_FACE_CONFIG.calibrationPriorFrames,
      prior: scale.prior,
    });
  }

  /**
   * Null when the landmarks are degenerate (the face is then reported without AUs by the caller). `expression` is
   * the expression net's posterior for this face (EMOTIONS order) when there is one: while it is confidently
   * non-neutral the frame does not enter the person's baseline, so a held expression is not learnt as their resting
   * face (docs/aus.md section 4).
   */
  estimate(mesh: Float32Array, expression: ArrayLike<number> | null = null): AuFrame | null {
    const g = computeGeometry(mesh);
    if (!g) return null;
    const raw = rawActivations(g.features, this.baseline.baseline());
    const aus = scaleActivations(raw, this.scale);
    const enters = entersBaseline(g.pose, expression, this.pauseConfidence);
    if (enters) this.baseline.push(g.features);
    else if (isFrontal(g.pose)) this.pausedFrames++;
    return { aus, raw, pose: g.pose };
  }

  /** Frontal frames kept out of the baseline because the face showed a confident expression. */
  calibrationPausedFrames(): number {
    return this.pausedFrames;
  }

  calibrationFrames(): number {
    return this.baseline.frames();
  }

  reset(): void {
    this.baseline.reset();
    this.pausedFrames = 0;
  }
}
