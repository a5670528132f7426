import { logLinearPool } from '../face/face-posterior.js';
import { EMOTIONS } from '../protocol/labels.js';
import { argmaxIndex, type FusedPosterior, type FusionStage } from './fusion-stage.js';

/**
 * Branch reliabilities for fusing speech with the server's video face posterior: each branch's measured accuracy
 * minus chance (1/8). Speech: the shipped speech model's subject-wise CV accuracy on RAVDESS, 72.82 %
 * (docs/fusion.md). Face: the shipped face posterior's leave-one-subject-out result on ../shared/faces, 13 of 20
 * clips (models/face/transfer-report.md).
 */
export const VIDEO_FUSION_WEIGHTS = { speech: 0.7282 - 0.125, face: 13 / 20 - 0.125 } as const;

/**
 * Fused posterior of a window whose face posterior came from the server's video analysis. The trained fusion heads
 * were fitted on RAVDESS clip-mean OpenFace AUs, a different base model, so they do not apply to it. Instead:
 * speech is first calibrated by the fusion's speech-only head (as a speech-only session is), then the two are
 * combined by a log-linear pool weighted by each branch's measured reliability, p ∝ speech^ws · face^wf. A pool
 * adds weighted log-odds: a confident branch moves the result by its full (weighted) evidence and a hesitant one
 * by little, so a weak, unsure branch cannot overrule a confident strong one; the weights are renormalised to sum
 * to 1, so two branches that say the same thing give that, not a more confident posterior (their errors are not
 * independent enough to count twice). Without speech the face posterior passes through.
 */
export function fuseWithVideoFace(fusion: FusionStage, speech: Float32Array | null, face: Float32Array): FusedPosterior {
  if (!speech) return { probs: face, label: EMOTIONS[argmaxIndex(face)], head: 'video-face' };
  const calibrated = fusion.fuse({ speech })?.probs ?? speech;
  const probs = logLinearPool({ speech: calibrated, face }, VIDEO_FUSION_WEIGHTS)!;
  return { probs, label: EMOTIONS[argmaxIndex(probs)], head: 'pool:speech+video-face' };
}
