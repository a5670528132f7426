import type { DriverState } from '../protocol/v1/face-tracks.js';
/**
 * The model backend contract shared by the server, the model adapters and the trainers. A leaf (it imports only the
 * protocol): src/models implements it, src/streaming and the server use it without importing src/models.
 * A model is shared by every session; whatever a stream needs between hops lives in a per-stream state object
 * created by the model (livekit's VAD vs VADStream). Posteriors are always 8 values in EMOTIONS order.
 */

export interface TensorData {
  data: Float32Array;
  dims: number[];
}
export type Feeds = Record<string, TensorData>;

export interface RunOptions {
  /**
   * The caller never reads the feeds' buffers again (it built them for this call): a worker-thread runner may move
   * them to the worker instead of copying them. Their contents are unspecified after the call starts.
   */
  transferInputs?: boolean;
}

/** Runs one ONNX graph. Implementations: in-process (tests, training) and a worker-thread pool (server). */
export interface OnnxRunner {
  readonly provider: string;
  run(feeds: Feeds, options?: RunOptions): Promise<Record<string, TensorData>>;
  dispose(): Promise<void>;
}

export type Modality = 'speech' | 'face';

export interface ModelStatus {
  name: string;
  modality: Modality | 'fusion';
  available: boolean;
  /** Why the model is unavailable: the file that is missing or corrupt, the shape that is wrong. */
  error?: string;
  provider?: string;
  path?: string;
  labels: readonly string[];
  /** Input contract and anything else a client may want to see in /v1/models. */
  details?: Record<string, unknown>;
}

/** A model mapping a batch of windows (from any sessions) to one 8-way posterior each. */
export interface WindowModel<W> {
  readonly name: string;
  readonly modality: Modality;
  status(): ModelStatus;
  /** One call for the whole batch; the i-th result belongs to the i-th window. Rejects only for a batch-wide failure. */
  inferBatch(windows: W[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** Creates the runner for one ONNX file: in-process for tests and training, a worker pool in the server. */
export type OnnxRunnerFactory = (onnxPath: string) => Promise<OnnxRunner>;

/**
 * Per-session speech state: incremental features (computed once per hop and reused by overlapping windows),
 * per-speaker running normalisation. Pure and synchronous. `W` is opaque to the server.
 */
export interface SpeechStream<W> {
  /** Appends mono 16 kHz samples in [-1, 1]. */
  push(samples16k: Float32Array): void;
  /** The window ending at absolute sample `endSample` (session clock) of `windowSamples` samples, or null if no audio. */
  window(endSample: number, windowSamples: number): W | null;
  reset(): void;
  stats(): Record<string, number>;
  /** Frees what the stream holds outside the JS heap (e.g. its voice-activity state); optional. */
  close?(): void;
}

export interface SpeechModel<W = unknown> extends WindowModel<W> {
  createStream(): SpeechStream<W>;
}

/** Face model: static (mean AUs) or sequential (bi-LSTM over frames) behind one interface. */
export type FaceModel = WindowModel<AuWindow>;

export interface FusionInputs {
  speech?: Float32Array | null;
  face?: Float32Array | null;
  /** Posterior of the npm-shipped expression classifier (video pipeline), when present. */
  expression?: Float32Array | null;
}

/** Late fusion with one head per subset of present modalities; pure, synchronous, microseconds. */
export interface Fusion {
  status(): ModelStatus;
  fuse(inputs: FusionInputs): { probs: Float32Array; head: string };
}

/** Face model input: the per-frame AU vectors (35 OpenFace columns each) that fell inside one window. */
export interface AuWindow {
  /** frames x 35, row-major. */
  aus: Float32Array;
  frames: number;
}

/** One video frame as it arrived (compressed or raw); the face pipeline decodes it. */
export interface VideoFrameInput {
  format: 'jpeg' | 'i420' | 'rgba';
  width: number;
  height: number;
  payload: Uint8Array;
  ptsUs: number;
}

export interface FaceObservation {
  trackId: number;
  box: { x: number; y: number; width: number; height: number };
  score: number;
  /** 35 OpenFace columns (AU01_r..AU45_r, AU01_c..AU45_c). */
  aus: Float32Array;
  /** The npm-shipped expression classifier's posterior mapped onto EMOTIONS, or null when unavailable. */
  expression: Float32Array | null;
  /** Driver-state signals of this track after this frame (src/face/driver-state.ts), when the analyzer measures them. */
  driver?: DriverState | null;
}

export interface VideoAnalysis {
  faces: FaceObservation[];
  /** Milliseconds spent decoding + detecting/tracking + estimating AUs for this frame. */
  faceMs: number;
}

/**
 * Per-session face pipeline state (trackers, neutral baselines) over a shared detector.
 * Created by the face pipeline; the session pipeline feeds it frames at the analysis rate.
 */
export interface VideoAnalyzerStream {
  analyze(frame: VideoFrameInput): Promise<VideoAnalysis>;
  reset(): void;
  dispose(): void;
}

export interface VideoAnalyzer {
  status(): ModelStatus;
  createStream(): VideoAnalyzerStream;
  dispose(): Promise<void>;
}

/** What one window's trip through a (batched) model returned, with the time it spent queued and in the model. */
export interface InferOutcome {
  probs: Float32Array;
  queueMs: number;
  inferMs: number;
  batchSize: number;
}
