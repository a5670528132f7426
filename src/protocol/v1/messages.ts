import { z } from 'zod';
import type { FaceTrackResult } from './face-tracks.js';
import { EMOTIONS } from '../labels.js';
import { ERROR_CATALOGUE, ProtocolError, type ErrorCode } from './errors.js';

/** Protocol version spoken by this server: `major.minor`. A different major is refused; minors are compatible. */
export const PROTOCOL_VERSION = '1.1';
export const PROTOCOL_MAJOR = 1;
/** WebSocket subprotocol clients offer on /v1/stream and /v1/subscribe. */
export const SUBPROTOCOL = 'emo.v1';

const streamDecl = z.object({
  id: z.number().int().min(0).max(65535),
  kind: z.enum(['audio', 'au', 'video']),
  sampleRate: z.number().int().optional(),
  channels: z.number().int().optional(),
  format: z.enum(['pcm_s16le', 'pcm_f32le', 'jpeg', 'i420', 'rgba']).optional(),
}).strict();

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.string().regex(/^\d+\.\d+$/, 'protocol must be "major.minor", e.g. "1.0"'),
  client: z.string().max(200).optional(),
  streams: z.array(streamDecl).max(16).default([]),
  /** Protocol 1.1: results carry each face's driver state (docs/driver-state.md). */
  driverState: z.boolean().optional(),
}).strict();
export type Hello = z.infer<typeof helloSchema>;

export const endSchema = z.object({ type: z.literal('end') }).strict();

/** Control messages a streaming client may send after hello. */
export const clientControlSchema = z.discriminatedUnion('type', [endSchema, z.object({ type: z.literal('ping'), id: z.number().optional() }).strict()]);
export type ClientControl = z.infer<typeof clientControlSchema>;

export interface ModelSummary {
  name: string;
  modality: string;
  available: boolean;
  provider?: string;
  error?: string;
}

export interface Welcome {
  type: 'welcome';
  protocol: string;
  sessionId: string;
  models: ModelSummary[];
  windowMs: number;
  hopMs: number;
  labels: readonly string[];
  limits: {
    maxFrameBytes: number;
    videoAnalysisFps: number;
    /** Protocol 1.1 (additive): media faster than this x real time, past a burst of realtimeBurstMs, is refused. */
    maxRealtimeFactor?: number;
    realtimeBurstMs?: number;
    /** Protocol 1.1: how far ptsUs may lead the session clock, and how long a session may go without media. */
    maxPtsJumpMs?: number;
    idleSessionTimeoutMs?: number;
  };
}

export interface Posterior {
  probs: number[];
}

export interface EmotionResult {
  type: 'emotion';
  sessionId: string;
  /** Hop index since the session started (0, 1, ...); gaps are dropped windows. */
  hop: number;
  windowStartUs: number;
  windowEndUs: number;
  /** Client ptsUs of the last frame that fell inside the window: the client maps it to its send time for end-to-end latency. */
  lastFramePtsUs: number | null;
  final: boolean;
  speech: Posterior | null;
  /**
   * Voice activity in the window (protocol 1.1): `speechRatio` = share of the window's voice-activity chunks that hold
   * speech; `active` = speechRatio >= models.speech.minSpeechRatio. When not active, `speech` is null and fusion
   * uses the other modalities. Null when the window has no audio or the server runs no voice-activity detector.
   */
  voice?: { active: boolean; speechRatio: number } | null;
  /**
   * The face posterior. For windows of the server's own video analysis (protocol 1.1, additive): `label`, `source`
   * (models.video.facePosterior: expression | au-model | facs | pool), `auModel` (the AU model's own posterior, when it
   * ran) and `smoothed` (exponentially smoothed over the session with a sticky label); docs/protocol.md.
   */
  face: (Posterior & { frames: number; label?: string; source?: string; auModel?: number[]; smoothed?: { probs: number[]; label: string } }) | null;
  /** Video faces seen in the window (video sessions only). */
  faces: { count: number; trackIds: number[] } | null;
  expression: Posterior | null;
  /**
   * Window mean of the 35 AU vectors that entered the AU window (client AU frames or the server's face analysis),
   * OpenFace column order (AU_COLUMNS); null when the window had no AU frame. Added in protocol 1.0 (additive).
   */
  aus: { mean: number[] } | null;
  fused: (Posterior & { label: string; head: string }) | null;
  /**
   * The fused posterior smoothed over time (exponential in session time, `streaming.smoothing.halfLifeMs`) with a
   * sticky label (`switchMargin`); null when `fused` is null (the smoothing state is kept). Added in protocol 1.1.
   */
  smoothed: { probs: number[]; label: string } | null;
  /** Video sessions (protocol 1.1): every face of the window, largest first, with `state` when driver state was asked for. */
  faceTracks?: FaceTrackResult[];
  /** Video sessions with driver state (protocol 1.1): media seconds since a face was last seen. */
  secondsWithoutFace?: number;
  latency: { queueMs: number; speechMs: number | null; faceMs: number | null; fuseMs: number; totalMs: number };
  /** Windows this session has dropped so far because inference fell behind real time. */
  droppedWindows: number;
  /**
   * Only on a final result after `end` when no media arrived after the last result's window: the hop index of that
   * result, whose window and posteriors this final result carries unchanged (the models are not run again).
   */
  repeatOfHop?: number;
}

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The offending frame's stream id and seq, when the error is about a frame. */
  streamId?: number;
  seq?: number;
}

export interface SubscribedMessage {
  type: 'subscribed';
  sessionId: string;
  windowMs: number;
  hopMs: number;
  labels: readonly string[];
  /**
   * Only with `/v1/subscribe?session=ID&since=HOP` (protocol 1.1, additive): the stored results that follow this
   * message before the live ones, from hop `fromHop` (HOP, or later when more than the replay limit were asked).
   */
  replay?: { fromHop: number; results: number };
}

export interface EndMessage {
  type: 'end';
  sessionId: string;
  reason: 'client-end' | 'client-gone' | 'shutdown' | 'error';
  results: number;
  droppedWindows: number;
}

/** An alert rule fired on a result of the session (protocol 1.1; docs/alerts.md). */
export interface AlertMessage {
  type: 'alert';
  sessionId: string;
  /** The rule's name from the configuration. */
  rule: string;
  /** Hop and window end (session time) of the result that made it fire. */
  hop: number;
  atUs: number;
  kind: 'label' | 'perclos' | 'no-face' | 'no-voice';
  /** The smoothed probability (label), the PERCLOS (perclos), or the seconds the condition has held (no-face, no-voice). */
  value: number;
  message: string;
}

export type ServerMessage = Welcome | EmotionResult | ErrorMessage | SubscribedMessage | EndMessage | AlertMessage | { type: 'pong'; id?: number };

export function errorMessage(code: ErrorCode, message?: string, extra: { streamId?: number; seq?: number } = {}): ErrorMessage {
  return { type: 'error', code, message: message ?? ERROR_CATALOGUE[code].text, ...extra };
}

/** Short, readable zod issue summary for error messages. */
function describeIssues(err: z.ZodError): string {
  return err.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

function parseJson(text: string, code: ErrorCode): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(code, 'message is not valid JSON');
  }
}

/** Validates the first message of a stream session; throws BAD_HELLO or PROTOCOL_VERSION. */
export function parseHello(text: string): Hello {
  const raw = parseJson(text, 'EMO_ERR_BAD_HELLO');
  const res = helloSchema.safeParse(raw);
  if (!res.success) {
    const type = (raw as { type?: unknown } | null)?.type;
    throw new ProtocolError('EMO_ERR_BAD_HELLO', type !== 'hello'
      ? `expected {"type":"hello","protocol":"${PROTOCOL_VERSION}"} first, got type ${JSON.stringify(type)}`
      : `invalid hello: ${describeIssues(res.error)}`);
  }
  const major = Number(res.data.protocol.split('.')[0]);
  if (major !== PROTOCOL_MAJOR) {
    throw new ProtocolError('EMO_ERR_PROTOCOL_VERSION', `client speaks protocol ${res.data.protocol}, server speaks ${PROTOCOL_VERSION} (major ${PROTOCOL_MAJOR})`);
  }
  return res.data;
}

export function parseClientControl(text: string): ClientControl {
  const raw = parseJson(text, 'EMO_ERR_BAD_MESSAGE');
  const res = clientControlSchema.safeParse(raw);
  if (!res.success) throw new ProtocolError('EMO_ERR_BAD_MESSAGE', `invalid control message: ${describeIssues(res.error)}`);
  return res.data;
}

/** Server messages as the client library validates them (loose: unknown fields pass, so minor versions can add fields). */
const probs = z.array(z.number()).length(EMOTIONS.length);
export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome'), protocol: z.string(), sessionId: z.string(), models: z.array(z.any()), windowMs: z.number(), hopMs: z.number() }).passthrough(),
  z.object({
    type: z.literal('emotion'), sessionId: z.string(), hop: z.number(), windowStartUs: z.number(), windowEndUs: z.number(),
    speech: z.object({ probs }).passthrough().nullable(), face: z.object({ probs }).passthrough().nullable(),
    fused: z.object({ probs, label: z.string() }).passthrough().nullable(), latency: z.object({ totalMs: z.number() }).passthrough(),
  }).passthrough(),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }).passthrough(),
  z.object({ type: z.literal('subscribed'), sessionId: z.string() }).passthrough(),
  z.object({ type: z.literal('end'), sessionId: z.string() }).passthrough(),
  z.object({ type: z.literal('alert'), sessionId: z.string(), rule: z.string(), kind: z.string(), value: z.number() }).passthrough(),
  z.object({ type: z.literal('pong') }).passthrough(),
]);
