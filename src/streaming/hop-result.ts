import type { EmotionResult } from '../protocol/v1/messages.js';
import { AU_VECTOR_LENGTH } from '../protocol/labels.js';
import type { AuWindow, InferOutcome } from '../contracts/models.js';
import type { AuWindowSnapshot } from './au-windower.js';
import type { FusionStage } from './fusion-stage.js';
import type { Hop } from './hop-scheduler.js';
import type { PosteriorSmoother } from './posterior-smoother.js';
import type { VideoFaceStage } from './video-face-stage.js';
import { fuseWithVideoFace } from './video-face-fusion.js';
import { summariseTracks } from './face-tracks.js';

export const round = (x: number, digits = 5): number => {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
};
const probsOut = (p: Float32Array): number[] => Array.from(p, (x) => round(x));
const ms = (x: number): number => round(x, 3);

/** Per-column mean of a window's AU vectors (frames x 35, row-major). */
export function meanAuVector(window: AuWindow): Float32Array {
  // Summed in float64: a float32 sum of large (finite) values overflowed to Infinity, which JSON sends as null. The
  // mean of finite float32 values is itself a finite float32.
  const sum = new Float64Array(AU_VECTOR_LENGTH);
  for (let f = 0; f < window.frames; f++) for (let k = 0; k < AU_VECTOR_LENGTH; k++) sum[k] += window.aus[f * AU_VECTOR_LENGTH + k];
  const mean = new Float32Array(AU_VECTOR_LENGTH);
  for (let k = 0; k < AU_VECTOR_LENGTH; k++) mean[k] = sum[k] / Math.max(1, window.frames);
  return mean;
}

/**
 * The final result when no media came after `previous`: same window and posteriors, the next hop index, flagged
 * with `repeatOfHop`. No frame of it is new, so it carries no lastFramePtsUs (it must not count as end-to-end latency).
 */
export function repeatAsFinal(previous: EmotionResult, hop: number, droppedWindows: number): EmotionResult {
  return {
    ...previous,
    hop,
    final: true,
    lastFramePtsUs: null,
    latency: { queueMs: 0, speechMs: null, faceMs: null, fuseMs: 0, totalMs: 0 },
    droppedWindows,
    repeatOfHop: previous.hop,
  };
}

/** What one hop's trip through the models returned, and when it was due and started (performance.now() ms). */
export interface HopOutcome {
  sessionId: string;
  hop: Hop;
  lastFramePtsUs: number | null;
  dueAt: number;
  startedAt: number;
  speech: InferOutcome | null;
  /** Time spent building the speech window. */
  featureMs: number;
  voice: EmotionResult['voice'];
  face: InferOutcome | null;
  au: AuWindowSnapshot | null;
  droppedWindows: number;
}

/** The session's stateful result stages (fusion, video face posterior, smoothing) and what its results carry. */
export interface ResultStages {
  fusion: FusionStage;
  videoFace: VideoFaceStage;
  smoother: PosteriorSmoother;
  /** Video sessions: per-face tracks, and with driver state the seconds without a face. */
  video: { driverState: boolean; secondsWithoutFace: () => number } | null;
}

/** Fuses one hop's posteriors and assembles its result message. */
export function assembleResult(o: HopOutcome, stages: ResultStages): EmotionResult {
  const { speech, face, au, hop } = o;
  const t0 = performance.now();
  const expression = au?.expression ?? null;
  const meanAus = au ? meanAuVector(au.window) : null;
  // A window of the server's own video analysis gets the transferable face posterior (docs/video.md); client AUs keep the heads.
  const videoFace = stages.videoFace.posterior(au, face?.probs ?? null, meanAus, hop.endUs / 1000);
  const fused = videoFace
    ? fuseWithVideoFace(stages.fusion, speech?.probs ?? null, videoFace.probs)
    : stages.fusion.fuse({ speech: speech?.probs ?? null, face: face?.probs ?? null, expression });
  const fuseMs = performance.now() - t0;
  const sessionQueueMs = o.startedAt - o.dueAt;
  const modelQueueMs = Math.max(speech?.queueMs ?? 0, face?.queueMs ?? 0);
  const { video } = stages;
  return {
    type: 'emotion',
    sessionId: o.sessionId,
    hop: hop.index,
    windowStartUs: hop.startUs,
    windowEndUs: hop.endUs,
    lastFramePtsUs: o.lastFramePtsUs,
    final: hop.final,
    speech: speech ? { probs: probsOut(speech.probs) } : null,
    voice: o.voice,
    face: videoFace
      ? { probs: probsOut(videoFace.probs), frames: au!.window.frames, label: videoFace.label, source: videoFace.source, ...(face ? { auModel: probsOut(face.probs) } : {}), smoothed: videoFace.smoothed }
      : face ? { probs: probsOut(face.probs), frames: au!.window.frames } : null,
    faces: au?.faces ?? null,
    expression: expression ? { probs: probsOut(expression) } : null,
    aus: meanAus ? { mean: probsOut(meanAus) } : null,
    fused: fused ? { probs: probsOut(fused.probs), label: fused.label, head: fused.head } : null,
    // On the window's end in session time; a window without a fused posterior leaves the smoother as it was.
    smoothed: fused ? stages.smoother.update(fused.probs, hop.endUs / 1000) : null,
    latency: {
      queueMs: ms(sessionQueueMs + modelQueueMs),
      speechMs: speech ? ms(o.featureMs + speech.inferMs) : null,
      faceMs: face ? ms(face.inferMs) : null,
      ...(au?.analysisMs != null ? { analysisMs: ms(au.analysisMs) } : {}),
      fuseMs: ms(fuseMs),
      totalMs: ms(performance.now() - o.dueAt),
    },
    droppedWindows: o.droppedWindows,
    ...(video ? { faceTracks: summariseTracks(au?.videoFrames ?? [], video.driverState) } : {}),
    ...(video?.driverState ? { secondsWithoutFace: video.secondsWithoutFace() } : {}),
  };
}
