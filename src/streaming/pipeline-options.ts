import type { ProtocolError } from '../protocol/v1/errors.js';
import type { EmotionResult } from '../protocol/v1/messages.js';
import type { FacePosteriorMode } from '../face/face-posterior.js';
import type { MonoResampler } from './audio-input.js';
import type { PipelineModels } from './pipeline-models.js';
import type { PosteriorSmootherOptions } from './posterior-smoother.js';

/** models.speech.minSpeechRatio when not configured: below it a window's speech posterior is withheld. */
export const DEFAULT_MIN_SPEECH_RATIO = 0.3;

/** Where a pipeline's results and per-frame problems go (the session that owns it). */
export interface PipelineEvents {
  onResult: (result: EmotionResult) => void;
  /** A per-frame problem the client should hear about (non-fatal codes), e.g. a failing video frame. */
  onError: (err: ProtocolError) => void;
}

export interface PipelineOptions extends PipelineEvents {
  sessionId: string;
  windowMs: number;
  hopMs: number;
  /** Hops waiting for inference per session beyond the one in flight; the oldest is dropped past this. */
  maxPendingHops: number;
  /** Video frames analysed per second at most (newer frames replace a waiting one). */
  videoAnalysisFps: number;
  /** Audio chunks held while the resampler for a new format is being created. */
  maxBufferedChunks: number;
  models: PipelineModels;
  createResampler: (inputRate: number) => Promise<MonoResampler>;
  onDrop?: (count: number, reason: 'session-queue' | 'model-queue') => void;
  onVideoSkipped?: (count: number) => void;
  /**
   * Voice-activity gate: a window whose speech ratio (share of its VAD chunks with speech) is below this gets no
   * speech posterior (`speech: null`, `voice.active: false`); 0 turns the gate off (the ratio is still reported).
   */
  minSpeechRatio?: number;
  /** At `end`, how long to wait for video frames still in analysis so their AUs reach the final result (default 2000). */
  videoDrainMs?: number;
  log?: (level: 'warn' | 'error' | 'info', msg: string, extra?: Record<string, unknown>) => void;
  /** Smoothing of the fused posterior into `smoothed` (default DEFAULT_SMOOTHING). */
  smoothing?: PosteriorSmootherOptions;
  /** Video sessions: how the face posterior is made (models.video.facePosterior, default 'pool') and smoothed. */
  facePosterior?: FacePosteriorMode;
  faceSmoothing?: PosteriorSmootherOptions;
  /** Results carry each face's driver state and secondsWithoutFace (hello `driverState`; a subscriber can turn it on). */
  driverState?: boolean;
}
