import { z } from 'zod';

/** The face pipeline alone refuses frames above this; in the server `server.maxFrameBytes` is the default instead. */
const FACE_MAX_FRAME_BYTES = 8 * 1024 * 1024;

/**
 * The face pipeline's settings as zod fields, each with its bounds, default and description: the server's one config
 * schema holds them under `models.video` (src/server/config.ts), and `resolveFaceConfig` parses a bare partial (tools,
 * tests, `loadVideoAnalyzer()` without a server) with the same fields, so every rule lives here once.
 */
export const faceSettingsShape = {
  workers: z.number().int().min(1).max(64).default(1)
    .describe('face pipeline worker threads (each with its own TensorFlow.js and models); a session stays on one'),
  maxFaces: z.number().int().min(1).max(16).default(1)
    .describe('faces analysed per frame, largest first (the largest feeds the AU window)'),
  redetectEveryFrames: z.number().int().min(1).max(1000).default(20)
    .describe('run the face detector at least every N analysed frames while faces are tracked'),
  idleDetectEveryFrames: z.number().int().min(1).max(1000).default(3)
    .describe('with no face tracked, run the detector on every Nth analysed frame'),
  minDetectionScore: z.number().min(0).max(1).default(0.5).describe('BlazeFace score threshold'),
  minMeshScore: z.number().min(0).max(1).default(0.5).describe('FaceMesh face flag below which a track is lost'),
  maxAnalysisSidePx: z.number().int().min(1).max(4096).default(640)
    .describe('frames are downscaled to this long side before detection (faces stay >= ~60 px)'),
  maxFrameBytes: z.number().int().min(1).max(64 * 1024 * 1024).optional()
    .describe(`frames above this are refused before decoding; unset = \`server.maxFrameBytes\` (the face pipeline alone defaults to ${FACE_MAX_FRAME_BYTES})`)
    .meta({ docDefault: 'server.maxFrameBytes' }),
  maxFramePixels: z.number().int().min(1).max(8192 * 8192).default(4096 * 2304)
    .describe('frames above this many pixels (4096x2304) are refused before decoding'),
  calibrationHistoryFrames: z.number().int().min(1).max(100_000).default(300).describe('per-track neutral-baseline history (frames)'),
  calibrationPriorFrames: z.number().min(0).default(10).describe('weight of the population prior in the baseline, in frames'),
  calibrationPauseConfidence: z.number().min(0).max(1).default(0.5)
    .describe('a frame whose expression posterior gives a non-neutral class at least this does not enter the neutral baseline (a held expression is not learnt as the resting face); 1 = every frame enters'),
  expression: z.boolean().default(true).describe('run the expression net (second visual model; `expression` in results)'),
  expressionEveryFrames: z.number().int().min(1).max(1000).default(2)
    .describe('run it on every Nth analysed frame per track (and on a new track\'s first frame); between, a track keeps its last posterior'),
  maxBatchFrames: z.number().int().min(1).max(64).default(8).describe('frames of different sessions batched into one worker pass'),
  maxPendingFrames: z.number().int().min(1).max(100_000).default(64)
    .describe('frames waiting for the workers (all sessions); beyond, EMO_ERR_VIDEO_BUSY (frame skipped, reported)'),
  frameTimeoutMs: z.number().int().min(1).max(600_000).default(5000)
    .describe('a frame not analysed by then fails with EMO_ERR_VIDEO_INTERNAL and the worker is restarted'),
  modelDir: z.string().min(1).optional()
    .describe('folder with blazeface.json, facemesh.json, emotion.json').meta({ docDefault: '@vladmandic/human\'s models' }),
};

const faceConfigSchema = z.object({ ...faceSettingsShape, maxFrameBytes: faceSettingsShape.maxFrameBytes.default(FACE_MAX_FRAME_BYTES) });

/** Settings of the server's face pipeline; every field has a default so `loadVideoAnalyzer()` works bare. */
export type FaceConfig = z.output<typeof faceConfigSchema>;

export const DEFAULT_FACE_CONFIG: Readonly<Omit<FaceConfig, 'modelDir'>> = Object.freeze(faceConfigSchema.parse({}));

/** Defaults filled in and every value checked by the schema's own rules; throws naming each bad key. */
export function resolveFaceConfig(partial: Partial<FaceConfig> = {}): FaceConfig {
  const res = faceConfigSchema.safeParse(partial);
  if (!res.success) throw new Error(`face config: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return res.data;
}

const FACE_KEYS = Object.keys(faceSettingsShape) as (keyof FaceConfig)[];

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
