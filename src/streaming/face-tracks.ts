import type { FaceTrackResult } from '../protocol/v1/face-tracks.js';
import { facePosterior } from '../face/face-posterior.js';
import { facsPosterior } from '../face/facs-rules.js';
import type { FaceObservation } from '../contracts/models.js';
import { AU_VECTOR_LENGTH, EMOTIONS } from '../protocol/labels.js';
import { argmaxIndex } from './fusion-stage.js';

export type { FaceTrackResult };


const round = (x: number): number => Math.round(x * 1e5) / 1e5;

/**
 * Every face seen in a window's video frames, largest first: per track its last box, its own posterior (window means
 * of its expression posteriors and AUs, pooled) and its driver state. Bounded by the frames of one window times
 * maxFaces.
 */
export function summariseTracks(frames: readonly { faces?: readonly FaceObservation[] | null }[], withState: boolean): FaceTrackResult[] {
  const byId = new Map<number, { last: FaceObservation; n: number; expr: Float32Array; nExpr: number; aus: Float32Array }>();
  for (const f of frames) {
    for (const face of f.faces ?? []) {
      let t = byId.get(face.trackId);
      if (!t) byId.set(face.trackId, (t = { last: face, n: 0, expr: new Float32Array(EMOTIONS.length), nExpr: 0, aus: new Float32Array(AU_VECTOR_LENGTH) }));
      t.last = face;
      t.n++;
      for (let k = 0; k < AU_VECTOR_LENGTH; k++) t.aus[k] += face.aus[k];
      if (face.expression) {
        t.nExpr++;
        for (let k = 0; k < EMOTIONS.length; k++) t.expr[k] += face.expression[k];
      }
    }
  }
  const out: FaceTrackResult[] = [];
  for (const [trackId, t] of byId) {
    for (let k = 0; k < AU_VECTOR_LENGTH; k++) t.aus[k] /= t.n;
    for (let k = 0; k < EMOTIONS.length; k++) t.expr[k] /= Math.max(1, t.nExpr);
    const probs = facePosterior('pool', { expression: t.nExpr ? t.expr : null, facs: facsPosterior(t.aus) })!;
    const b = t.last.box;
    out.push({
      trackId,
      box: { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) },
      probs: Array.from(probs, round),
      label: EMOTIONS[argmaxIndex(probs)],
      frames: t.n,
      ...(withState && t.last.driver ? { state: t.last.driver } : {}),
    });
  }
  return out.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
}

/** Media time of a session's analysed video frames with and without a face, for results' `secondsWithoutFace`. */
export class FacePresence {
  private firstVideoPtsUs: number | null = null;
  private lastVideoPtsUs: number | null = null;
  private lastFacePtsUs: number | null = null;

  frame(ptsUs: number, hasFace: boolean): void {
    this.firstVideoPtsUs ??= ptsUs;
    this.lastVideoPtsUs = Math.max(this.lastVideoPtsUs ?? -Infinity, ptsUs);
    if (hasFace) this.lastFacePtsUs = Math.max(this.lastFacePtsUs ?? -Infinity, ptsUs);
  }

  /** Media seconds from the newest analysed frame with a face (or the first video frame) to the newest analysed frame: 0 with a face in view. */
  secondsWithoutFace(): number {
    const since = this.lastFacePtsUs ?? this.firstVideoPtsUs;
    return since === null || this.lastVideoPtsUs === null ? 0 : Math.round((this.lastVideoPtsUs - since) / 1e5) / 10;
  }
}
