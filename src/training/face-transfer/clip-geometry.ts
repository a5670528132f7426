import { computeGeometry } from '../../face/au-geometry.js';
import type { ClipLabel } from '../face-eval/clip-labels.js';
import { mapExpression } from '../../face/expression-map.js';
import { entersBaseline } from '../../face/au-estimator.js';
import type { CachedClip } from './frame-cache.js';


/** A cached clip's frames with a face, as the AU estimator sees them. */
export interface ClipGeometry {
  clip: string;
  label: ClipLabel;
  features: Float32Array[];
  /** Expression net posterior per frame (EMOTIONS order). */
  expression: Float32Array[];
  /** Per frame: kept out of the baseline (head turned, or a confident expression), as AuEstimator decides. */
  paused: boolean[];
  meshes: Float32Array[];
}

export function clipGeometry(c: CachedClip, pauseConfidence: number): ClipGeometry {
  const out: ClipGeometry = { clip: c.clip, label: c.label, features: [], expression: [], paused: [], meshes: [] };
  for (const f of c.frames) {
    if (!f.mesh || !f.expression7) continue;
    const mesh = Float32Array.from(f.mesh);
    const g = computeGeometry(mesh);
    if (!g) continue;
    const e = mapExpression(Float32Array.from(f.expression7));
    out.features.push(g.features);
    out.expression.push(e);
    out.meshes.push(mesh);
    out.paused.push(!entersBaseline(g.pose, e, pauseConfidence));
  }
  return out;
}
