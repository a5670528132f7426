/** Settings of the server's face pipeline; every field has a default so `loadVideoAnalyzer()` works bare. */
export interface FaceConfig {
  /** Folder with blazeface.json, facemesh.json, emotion.json (default: the ones @vladmandic/human ships). */
  modelDir?: string;
  /** Worker threads (each with its own TensorFlow.js and models); a session's stream stays on one worker. */
  workers: number;
  /** Faces analysed per frame, largest first (the largest is the session's face). */
  maxFaces: number;
  /** Run the detector at least every N analysed frames to find new faces even while tracks hold. */
  redetectEveryFrames: number;
  /** With no face tracked, run the detector on every Nth analysed frame (1 = every frame). */
  idleDetectEveryFrames: number;
  /** Detector score threshold (BlazeFace sigmoid). */
  minDetectionScore: number;
  /** FaceMesh face-flag threshold below which a track counts as lost. */
  minMeshScore: number;
  /** Frames are downscaled so their longer side is at most this before detection (faces stay >= ~60 px). */
  maxAnalysisSidePx: number;
  /** Hard limits: larger frames are refused before decoding. */
  maxFrameBytes: number;
  maxFramePixels: number;
  /** Per-track neutral calibration: frames of history (median window) and weight of the population prior in frames. */
  calibrationHistoryFrames: number;
  calibrationPriorFrames: number;
  /**
   * A frame whose expression-net posterior gives some non-neutral class at least this probability does not enter
   * the person's neutral baseline (a held smile is not learnt as the resting face); 1 = every frame enters (the
   * behaviour before issue 20).
   */
  calibrationPauseConfidence: number;
  /** Run the expression classifier (second visual model). */
  expression: boolean;
  /** Run it on every Nth analysed frame per stream (and on a new track's first frame); between, a track keeps its last posterior. */
  expressionEveryFrames: number;
  /** Frames of different sessions a worker analyses in one batched pass at most. */
  maxBatchFrames: number;
  /** Frames waiting for the worker across all sessions; beyond it analyze() rejects with EMO_ERR_VIDEO_BUSY. */
  maxPendingFrames: number;
  /** A worker call that takes longer than this is failed (the worker is then restarted). */
  frameTimeoutMs: number;
}

export const DEFAULT_FACE_CONFIG: Readonly<FaceConfig> = Object.freeze({
  workers: 1,
  maxFaces: 1,
  redetectEveryFrames: 20,
  idleDetectEveryFrames: 3,
  minDetectionScore: 0.5,
  minMeshScore: 0.5,
  maxAnalysisSidePx: 640,
  maxFrameBytes: 8 * 1024 * 1024,
  maxFramePixels: 4096 * 2304,
  calibrationHistoryFrames: 300,
  calibrationPriorFrames: 10,
  calibrationPauseConfidence: 0.5,
  expression: true,
  expressionEveryFrames: 2,
  maxBatchFrames: 8,
  maxPendingFrames: 64,
  frameTimeoutMs: 5000,
});

export function resolveFaceConfig(partial: Partial<FaceConfig> = {}): FaceConfig {
  const cfg: FaceConfig = { ...DEFAULT_FACE_CONFIG, ...partial };
  const positiveInt = (name: keyof FaceConfig, max: number): void => {
    const v = cfg[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new Error(`face config: ${name} must be an integer in 1..${max}, got ${String(v)}`);
  };
  positiveInt('workers', 64);
  positiveInt('maxFaces', 16);
  positiveInt('redetectEveryFrames', 1000);
  positiveInt('idleDetectEveryFrames', 1000);
  positiveInt('expressionEveryFrames', 1000);
  positiveInt('maxAnalysisSidePx', 4096);
  positiveInt('maxFrameBytes', 64 * 1024 * 1024);
  positiveInt('maxFramePixels', 8192 * 8192);
  positiveInt('maxPendingFrames', 100_000);
  positiveInt('maxBatchFrames', 64);
  positiveInt('frameTimeoutMs', 600_000);
  positiveInt('calibrationHistoryFrames', 100_000);
  if (!(Number.isFinite(cfg.calibrationPriorFrames) && cfg.calibrationPriorFrames >= 0)) {
    throw new Error(`face config: calibrationPriorFrames must be >= 0, got ${cfg.calibrationPriorFrames}`);
  }
  for (const name of ['minDetectionScore', 'minMeshScore', 'calibrationPauseConfidence'] as const) {
    if (!(cfg[name] >= 0 && cfg[name] <= 1)) throw new Error(`face config: ${name} must be in [0, 1], got ${cfg[name]}`);
  }
  return cfg;
}

const FACE_KEYS = [...Object.keys(DEFAULT_FACE_CONFIG), 'modelDir'] as (keyof FaceConfig)[];

/**
 * The face settings inside whatever the caller passes: a Partial<FaceConfig>, or the server's frozen AppConfig, whose
 * `models.video` (or top-level `video` / `face`) section holds them and whose `server.maxFrameBytes` is the protocol's
 * frame limit. Unknown keys are ignored; known keys are validated by resolveFaceConfig.
 */
export function pickFaceConfig(config: unknown): Partial<FaceConfig> {
  if (!config || typeof config !== 'object') return {};
  const root = config as Record<string, unknown>;
  const obj = (v: unknown): Record<string, unknown> | null => (v && typeof v === 'object' ? (v as Record<string, unknown>) : null);
  const out: Record<string, unknown> = {};
  const server = obj(root.server);
  if (typeof server?.maxFrameBytes === 'number') out.maxFrameBytes = server.maxFrameBytes;
  for (const source of [root, obj(obj(root.models)?.video), obj(root.video), obj(root.face)]) {
    if (!source) continue;
    for (const k of FACE_KEYS) {
      if (source[k] !== undefined) out[k] = source[k];
    }
  }
  return out as Partial<FaceConfig>;
}
