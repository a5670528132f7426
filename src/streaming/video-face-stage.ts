import { facePosterior, type FacePosteriorMode } from '../face/face-posterior.js';
import { facsPosterior } from '../face/facs-rules.js';
import { EMOTIONS } from '../protocol/labels.js';
import type { AuWindowSnapshot } from './au-windower.js';
import { argmaxIndex } from './fusion-stage.js';
import { PosteriorSmoother, type PosteriorSmootherOptions, type SmoothedPosterior } from './posterior-smoother.js';

export interface VideoFacePosterior {
  probs: Float32Array;
  label: string;
  /** The configured mode that produced it (models.video.facePosterior). */
  source: FacePosteriorMode;
  /** Exponentially smoothed over the session's windows, with a sticky label. */
  smoothed: SmoothedPosterior;
}

/**
 * The face posterior of a window the server's own video analysis filled (docs/video.md, "Face posterior"): the
 * expression net's window mean, the AU model's posterior and the FACS rules on the window's mean AUs, combined as
 * `models.video.facePosterior` says, then smoothed. Windows of client-sent AUs (no video) are not its business.
 * One per session; pure and synchronous.
 */
export class VideoFaceStage {
  private readonly smoother: PosteriorSmoother;

  constructor(private readonly mode: FacePosteriorMode, smoothing: PosteriorSmootherOptions) {
    this.smoother = new PosteriorSmoother(smoothing);
  }

  /** Null for windows without video faces, or when the mode's inputs are missing (e.g. `expression` with the net off). */
  posterior(au: AuWindowSnapshot | null, auModel: Float32Array | null, meanAus: Float32Array | null, atMs: number): VideoFacePosterior | null {
    if (!au?.faces) return null;
    const probs = facePosterior(this.mode, { expression: au.expression, auModel, facs: meanAus ? facsPosterior(meanAus) : null });
    if (!probs) return null;
    return { probs, label: EMOTIONS[argmaxIndex(probs)], source: this.mode, smoothed: this.smoother.update(probs, atMs) };
  }

  reset(): void {
    this.smoother.reset();
  }
}
