import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_SMOOTHING } from '../streaming/posterior-smoother.js';
import { alertsConfigSchema } from '../alerts/config.js';
import { authConfigSchema, limitsConfigSchema } from '../auth/config.js';
import { FACE_POSTERIOR_MODES } from '../face/face-posterior.js';

/** streaming.featureWorkers when not configured: one front-end worker where a second core can run it. */
export const DEFAULT_FEATURE_WORKERS = availableParallelism() >= 2 ? 1 : 0;

/**
 * Server configuration: one zod schema holding every default, filled from an optional JSON file, then environment
 * variables (which win), validated, and deep-frozen. docs/configuration.md documents every key.
 */
export const configSchema = z.object({
  server: z.object({
    /** Loopback by default: exposing the server is a decision (docs/security.md); auth none + another host warns. */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** uws (uWebSockets.js) or ws (node:http + ws). uws falls back to ws when it fails to load. */
    transport: z.enum(['uws', 'ws']).default('uws'),
    /** Hard limit on one binary frame (header included). */
    maxFrameBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    /** Hard limit on one JSON control message. */
    maxControlBytes: z.number().int().min(256).max(1024 * 1024).default(64 * 1024),
    maxSessions: z.number().int().min(1).default(512),
    maxSubscribersPerSession: z.number().int().min(0).default(64),
    /** A subscriber (or a streaming client) whose unsent backlog exceeds this is closed with EMO_ERR_SLOW_CONSUMER. */
    maxSendBufferBytes: z.number().int().min(1024).default(1024 * 1024),
    /** A streaming client must send hello within this long after connecting. */
    helloTimeoutMs: z.number().int().min(100).default(10000),
    /** Seconds without any message before a WebSocket is closed. */
    idleTimeoutS: z.number().int().min(8).max(960).default(120),
    /** How long graceful shutdown waits for final results. */
    shutdownGraceMs: z.number().int().min(0).default(3000),
    /** A frame whose ptsUs lies further ahead of the session clock is refused (EMO_ERR_TIMESTAMP_JUMP). */
    maxPtsJumpMs: z.number().int().min(100).max(3_600_000).default(10000),
    /** Sessions may not send media faster than this many times real time, after a burst (EMO_ERR_RATE_LIMITED). */
    maxRealtimeFactor: z.number().min(1).max(10000).default(4),
    /** Media time a session may send at once beyond the real-time budget (a short file with --fast). */
    realtimeBurstMs: z.number().int().min(0).max(3_600_000).default(10000),
    /** A session with no accepted media frame for this long is ended (EMO_ERR_IDLE, close 4034). */
    idleSessionTimeoutMs: z.number().int().min(100).max(86_400_000).default(30000),
    /**
     * Event loops that serve connections (uws transport): 1 = this thread alone; N > 1 starts N - 1 more threads, each
     * a whole server (its sessions, model and feature workers) on the same port, the kernel spreading connections
     * over them (SO_REUSEPORT). One event loop handles every socket message of its sessions (~80 per session-second),
     * so on a many-core or GPU host it, not the models, bounds a single loop. Subscribers, WHIP DELETE and /metrics
     * work across loops. maxSessions is the total, split evenly.
     */
    eventLoops: z.number().int().min(1).max(64).default(1),
    /**
     * Server processes on this host (src/cluster/processes.ts): 1 = this process alone; N > 1 = N whole servers (each
     * its own sessions, models and workers) on the same port (SO_REUSEPORT, uws transport), started, restarted and
     * stopped by the first. Replaces eventLoops (a deprecated alias: eventLoops N > 1 with processes 1 means N).
     */
    processes: z.number().int().min(1).max(256).default(1),
    /** On SIGTERM a node refuses new sessions (/healthz 503 "draining") and lets running ones finish this long. */
    drainTimeoutMs: z.number().int().min(0).max(86_400_000).default(30000),
    /** Access control: credentials, scopes, failed-attempt limit (src/auth, docs/security.md). */
    auth: authConfigSchema.prefault({}),
    /** Concurrent sessions / subscriptions per identity and per remote address (0 = none beyond the totals). */
    limits: limitsConfigSchema.prefault({}),
    /** Browser origins allowed to open WebSockets and call the HTTP API cross-origin ('*' = any); see docs/security.md. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    /** TLS on the server's own port (uWS SSLApp / node:https); both files PEM. */
    tls: z.object({ certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() }).strict()
      .refine((t) => Boolean(t.certFile) === Boolean(t.keyFile), 'server.tls needs both certFile and keyFile').prefault({}),
  }).prefault({}),
  http: z.object({
    /** Served at / when the folder exists (the WebRTC web client). */
    staticDir: z.string().default('clients/web'),
    bodyLimitBytes: z.number().int().min(0).default(1024 * 1024),
  }).prefault({}),
  streaming: z.object({
    windowMs: z.number().int().min(100).max(30000).default(3000),
    hopMs: z.number().int().min(10).max(10000).default(500),
    /** Hops waiting behind the one in inference, per session; the oldest is dropped beyond this. */
    maxPendingHops: z.number().int().min(1).max(64).default(2),
    /** Video frames analysed per second at most, per session. */
    videoAnalysisFps: z.number().min(0.1).max(60).default(10),
    maxBufferedAudioChunks: z.number().int().min(1).default(256),
    /**
     * Worker threads that compute the speech front end (log-mel, pitch track, window functionals, speaker normaliser)
     * of every session off the event loop; 0 computes it on the event loop. Default 1 where the host has 2+ cores:
     * with the pitch-tracking speech model one worker raised the real-time capacity of the 2-core development
     * machine from 192 to 240 sessions with batching (160 -> 176 without; docs/performance.md section 4), at the
     * cost of a thread hop per window (~0.6 ms at light load). On one core a worker only adds hand-offs: 0.
     */
    featureWorkers: z.number().int().min(0).max(16).default(DEFAULT_FEATURE_WORKERS),
    /** `smoothed` in every result: the fused posterior smoothed exponentially in session time, with a sticky label. */
    smoothing: z.object({
      /** Time for an old posterior's weight to halve; 0 = no smoothing (smoothed = fused). */
      halfLifeMs: z.number().min(0).max(600_000).default(DEFAULT_SMOOTHING.halfLifeMs),
      /** The smoothed label changes only when another class leads it by at least this much. */
      switchMargin: z.number().min(0).max(0.99).default(DEFAULT_SMOOTHING.switchMargin),
    }).prefault({}),
  }).prefault({}),
  models: z.object({
    executionProvider: z.enum(['auto', 'cpu', 'webgpu', 'cuda']).default('cpu'),
    /** ONNX worker threads (each holds every model). */
    workers: z.number().int().min(1).max(64).default(1),
    intraOpThreads: z.number().int().min(1).max(64).default(1),
    /**
     * Let WebGPU use a software Vulkan device (Mesa lavapipe, SwiftShader). Off by default: such a device runs the
     * models on the CPU, slower than the CPU provider, and `auto` would otherwise pick it. On for tests and CI.
     */
    allowSoftwareAdapter: z.boolean().default(false),
    speech: z.object({
      enabled: z.boolean().default(true), dir: z.string().optional(),
      /**
       * Voice-activity gate (protocol 1.1): a window whose share of speech (Silero VAD chunks) is below this gets
       * `speech: null`; 0 = gate off (the ratio is still reported in `voice`). models/speech/vad-report.md.
       */
      minSpeechRatio: z.number().min(0).max(1).default(0.3),
    }).prefault({}),
    face: z.object({ enabled: z.boolean().default(true), dir: z.string().optional() }).prefault({}),
    fusion: z.object({ enabled: z.boolean().default(true), dir: z.string().optional() }).prefault({}),
    /**
     * The video analyzer (src/face). Besides `enabled`, the face pipeline's own settings (FaceConfig in
     * src/face/config.ts); unset keys take the face pipeline's defaults (docs/configuration.md), so they live in one
     * place. The whole frozen config goes to `loadVideoAnalyzer(config)`, which reads this section.
     */
    video: z.object({
      enabled: z.boolean().default(true),
      modelDir: z.string().min(1).optional(),
      workers: z.number().int().min(1).max(64).optional(),
      maxFaces: z.number().int().min(1).max(16).optional(),
      redetectEveryFrames: z.number().int().min(1).max(1000).optional(),
      idleDetectEveryFrames: z.number().int().min(1).max(1000).optional(),
      minDetectionScore: z.number().min(0).max(1).optional(),
      minMeshScore: z.number().min(0).max(1).optional(),
      maxAnalysisSidePx: z.number().int().min(1).max(4096).optional(),
      maxFrameBytes: z.number().int().min(1).max(64 * 1024 * 1024).optional(),
      maxFramePixels: z.number().int().min(1).max(8192 * 8192).optional(),
      calibrationHistoryFrames: z.number().int().min(1).max(100_000).optional(),
      calibrationPriorFrames: z.number().min(0).optional(),
      calibrationPauseConfidence: z.number().min(0).max(1).optional(),
      /** How a video window's face posterior is made (src/face/face-posterior.ts; models/face/transfer-report.md). */
      facePosterior: z.enum(FACE_POSTERIOR_MODES).default('pool'),
      /** Smoothing of the face posterior over a session's windows (results' face.smoothed): half-life, 0 = off. */
      faceSmoothingHalfLifeMs: z.number().min(0).max(600_000).default(DEFAULT_SMOOTHING.halfLifeMs),
      /** Hysteresis of the smoothed face label: another class must lead by this much to take over. */
      faceSmoothingSwitchMargin: z.number().min(0).max(0.99).default(DEFAULT_SMOOTHING.switchMargin),
      expression: z.boolean().optional(),
      expressionEveryFrames: z.number().int().min(1).max(1000).optional(),
      maxBatchFrames: z.number().int().min(1).max(64).optional(),
      maxPendingFrames: z.number().int().min(1).max(100_000).optional(),
      frameTimeoutMs: z.number().int().min(1).max(600_000).optional(),
    }).strict().prefault({}),
    batching: z.object({
      enabled: z.boolean().default(true),
      maxBatch: z.number().int().min(1).max(1024).default(32),
      maxDelayMs: z.number().min(0).max(1000).default(2),
      maxQueue: z.number().int().min(1).default(1024),
      /** A model call that takes longer fails its windows (null posteriors) instead of stalling every session. */
      timeoutMs: z.number().int().min(10).default(5000),
    }).prefault({}),
  }).prefault({}),
  /** Alert rules evaluated on every result, and the webhooks alerts are POSTed to (docs/alerts.md). */
  alerts: alertsConfigSchema.prefault({}),
  /** Session history (src/storage, docs/history.md). */
  storage: z.object({
    /** Unset = SQLite under dataDir; `sqlite:PATH`, `postgres://...`, or `none` (no history). */
    databaseUrl: z.string().optional(),
    /** Folder of the default SQLite file (created when missing; relative to the working directory). */
    dataDir: z.string().min(1).default('data'),
    /** Sessions older than this are erased by the daily purge; 0 keeps them for ever. */
    retentionDays: z.number().min(0).max(36500).default(30),
    /** Rows waiting to be written; beyond, rows are dropped and counted (emostream_storage_rows_dropped_total). */
    maxQueueRows: z.number().int().min(100).max(10_000_000).default(100_000),
    batchRows: z.number().int().min(1).max(50_000).default(1000),
    flushIntervalMs: z.number().int().min(1).max(60_000).default(250),
    maxRetryDelayMs: z.number().int().min(10).max(600_000).default(5000),
    /** SQLite: longest a call waits for another process's lock before failing (writes are then retried). */
    busyTimeoutMs: z.number().int().min(0).max(60_000).default(1000),
    /** PostgreSQL: connections, and the time limit of one connection attempt or statement. */
    poolSize: z.number().int().min(1).max(64).default(4),
    timeoutMs: z.number().int().min(100).max(600_000).default(5000),
    /** Results per timeline page (and per late-join replay) at most. */
    maxPageResults: z.number().int().min(10).max(1_000_000).default(10_000),
  }).prefault({}),
  /** Scale-out over several hosts (src/cluster, docs/scale-out.md). */
  cluster: z.object({
    /** Redis for the session directory and cross-node fan-out (redis://[:password@]host:port[/db]); none: single host. */
    redisUrl: z.string().url().optional(),
    /** Unreachable Redis at start: run single-node with a warning instead of exiting. */
    redisOptional: z.boolean().default(false),
    /** This node's id in the directory (default hostname-pid; with several processes each adds /index). */
    nodeId: z.string().min(1).max(200).regex(/^[^\s*?[\]]+$/, 'no spaces or glob characters').optional(),
    /** How often a node refreshes its directory entries. */
    heartbeatMs: z.number().int().min(100).max(60_000).default(1000),
    /** Entries of a node that stopped refreshing them expire after this: its sessions' subscribers elsewhere are told. */
    nodeTtlMs: z.number().int().min(300).max(600_000).default(3000),
    /** Cross-node messages in flight to Redis at most; beyond, new ones are dropped and counted. */
    maxPendingPublishes: z.number().int().min(1).max(1_000_000).default(10000),
  }).strict().refine((c) => c.nodeTtlMs > c.heartbeatMs * 2, 'cluster.nodeTtlMs must be more than twice cluster.heartbeatMs').prefault({}),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** json: one JSON object a line; pretty: readable lines; auto: pretty when stdout is a terminal, else json. */
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  }).prefault({}),
  /** Modules (relative to src/server/) whose `register(api)` is called at start-up; missing ones are skipped. */
  plugins: z.array(z.string()).default(['../webrtc/index.ts']),
}).strict();

export type AppConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variables and the config path each one sets. */
type EnvType = 'int' | 'number' | 'string' | 'bool' | 'json' | 'list';

export const ENV_VARS: Record<string, { path: string[]; type: EnvType }> = {
  EMOSTREAM_HOST: { path: ['server', 'host'], type: 'string' },
  EMOSTREAM_PORT: { path: ['server', 'port'], type: 'int' },
  EMOSTREAM_TRANSPORT: { path: ['server', 'transport'], type: 'string' },
  EMOSTREAM_MAX_SESSIONS: { path: ['server', 'maxSessions'], type: 'int' },
  EMOSTREAM_EVENT_LOOPS: { path: ['server', 'eventLoops'], type: 'int' },
  EMOSTREAM_PROCESSES: { path: ['server', 'processes'], type: 'int' },
  EMOSTREAM_DRAIN_TIMEOUT_MS: { path: ['server', 'drainTimeoutMs'], type: 'int' },
  EMOSTREAM_REDIS_URL: { path: ['cluster', 'redisUrl'], type: 'string' },
  EMOSTREAM_REDIS_OPTIONAL: { path: ['cluster', 'redisOptional'], type: 'bool' },
  EMOSTREAM_NODE_ID: { path: ['cluster', 'nodeId'], type: 'string' },
  EMOSTREAM_AUTH: { path: ['server', 'auth', 'mode'], type: 'string' },
  EMOSTREAM_AUTH_JWT_SECRET: { path: ['server', 'auth', 'jwt', 'secret'], type: 'string' },
  EMOSTREAM_AUTH_JWT_PUBLIC_KEY_FILE: { path: ['server', 'auth', 'jwt', 'publicKeyFile'], type: 'string' },
  EMOSTREAM_AUTH_JWKS_FILE: { path: ['server', 'auth', 'jwt', 'jwksFile'], type: 'string' },
  EMOSTREAM_AUTH_AUDIENCE: { path: ['server', 'auth', 'jwt', 'audience'], type: 'string' },
  EMOSTREAM_AUTH_ISSUER: { path: ['server', 'auth', 'jwt', 'issuer'], type: 'string' },
  EMOSTREAM_AUTH_API_KEYS_FILE: { path: ['server', 'auth', 'apiKeysFile'], type: 'string' },
  EMOSTREAM_ALLOWED_ORIGINS: { path: ['server', 'allowedOrigins'], type: 'list' },
  EMOSTREAM_TLS_CERT_FILE: { path: ['server', 'tls', 'certFile'], type: 'string' },
  EMOSTREAM_TLS_KEY_FILE: { path: ['server', 'tls', 'keyFile'], type: 'string' },
  EMOSTREAM_IDLE_SESSION_TIMEOUT_MS: { path: ['server', 'idleSessionTimeoutMs'], type: 'int' },
  EMOSTREAM_MAX_REALTIME_FACTOR: { path: ['server', 'maxRealtimeFactor'], type: 'number' },
  EMOSTREAM_WINDOW_MS: { path: ['streaming', 'windowMs'], type: 'int' },
  EMOSTREAM_HOP_MS: { path: ['streaming', 'hopMs'], type: 'int' },
  EMOSTREAM_PROVIDER: { path: ['models', 'executionProvider'], type: 'string' },
  EMOSTREAM_ALLOW_SOFTWARE_ADAPTER: { path: ['models', 'allowSoftwareAdapter'], type: 'bool' },
  EMOSTREAM_WORKERS: { path: ['models', 'workers'], type: 'int' },
  EMOSTREAM_BATCHING: { path: ['models', 'batching', 'enabled'], type: 'bool' },
  EMOSTREAM_MAX_BATCH: { path: ['models', 'batching', 'maxBatch'], type: 'int' },
  EMOSTREAM_MAX_DELAY_MS: { path: ['models', 'batching', 'maxDelayMs'], type: 'number' },
  EMOSTREAM_SPEECH_DIR: { path: ['models', 'speech', 'dir'], type: 'string' },
  EMOSTREAM_MIN_SPEECH_RATIO: { path: ['models', 'speech', 'minSpeechRatio'], type: 'number' },
  EMOSTREAM_FACE_DIR: { path: ['models', 'face', 'dir'], type: 'string' },
  EMOSTREAM_FUSION_DIR: { path: ['models', 'fusion', 'dir'], type: 'string' },
  EMOSTREAM_VIDEO: { path: ['models', 'video', 'enabled'], type: 'bool' },
  EMOSTREAM_VIDEO_WORKERS: { path: ['models', 'video', 'workers'], type: 'int' },
  EMOSTREAM_VIDEO_EXPRESSION: { path: ['models', 'video', 'expression'], type: 'bool' },
  EMOSTREAM_MAX_PENDING_HOPS: { path: ['streaming', 'maxPendingHops'], type: 'int' },
  EMOSTREAM_FEATURE_WORKERS: { path: ['streaming', 'featureWorkers'], type: 'int' },
  EMOSTREAM_SMOOTHING_HALF_LIFE_MS: { path: ['streaming', 'smoothing', 'halfLifeMs'], type: 'number' },
  EMOSTREAM_LOG_LEVEL: { path: ['log', 'level'], type: 'string' },
  EMOSTREAM_ALERT_RULES: { path: ['alerts', 'rules'], type: 'json' },
  EMOSTREAM_WEBHOOK_URLS: { path: ['alerts', 'webhooks', 'urls'], type: 'list' },
  EMOSTREAM_WEBHOOK_SECRET: { path: ['alerts', 'webhooks', 'secret'], type: 'string' },
  EMOSTREAM_LOG_FORMAT: { path: ['log', 'format'], type: 'string' },
  EMOSTREAM_DATABASE_URL: { path: ['storage', 'databaseUrl'], type: 'string' },
  EMOSTREAM_DATA_DIR: { path: ['storage', 'dataDir'], type: 'string' },
  EMOSTREAM_RETENTION_DAYS: { path: ['storage', 'retentionDays'], type: 'number' },
};

type Json = Record<string, unknown>;

function setPath(obj: Json, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Json;
  }
  cur[path[path.length - 1]] = value;
}

function parseEnvValue(name: string, raw: string, type: EnvType): unknown {
  if (type === 'string') return raw;
  // Comma-separated; surrounding spaces and empty items are ignored.
  if (type === 'list') return raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (type === 'json') {
    try {
      return JSON.parse(raw) as unknown;
    } catch (err) {
      throw new Error(`${name} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  if (type === 'bool') {
    if (/^(1|true|on|yes)$/i.test(raw)) return true;
    if (/^(0|false|off|no)$/i.test(raw)) return false;
    throw new Error(`${name}=${raw}: expected true/false`);
  }
  const n = Number(raw);
  if (!Number.isFinite(n) || (type === 'int' && !Number.isInteger(n))) throw new Error(`${name}=${raw}: expected ${type === 'int' ? 'an integer' : 'a number'}`);
  return n;
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null && !Array.isArray(out[k])
      ? deepMerge(out[k] as Json, v as Json)
      : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export interface LoadConfigOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (CLI flags, tests). */
  overrides?: ConfigInput;
}

/** file -> environment -> overrides, validated and frozen. Throws an Error listing every invalid key. */
export function loadConfig(opts: LoadConfigOptions = {}): Readonly<AppConfig> {
  const env = opts.env ?? process.env;
  let merged: Json = {};
  const file = opts.file ?? env.EMOSTREAM_CONFIG;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      merged = JSON.parse(text) as Json;
    } catch (err) {
      throw new Error(`config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const fromEnv: Json = {};
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(fromEnv, spec.path, parseEnvValue(name, raw, spec.type));
  }
  merged = deepMerge(merged, fromEnv);
  if (opts.overrides) merged = deepMerge(merged, opts.overrides as Json);
  const res = configSchema.safeParse(merged);
  if (!res.success) {
    throw new Error(`invalid configuration: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  if (res.data.streaming.hopMs > res.data.streaming.windowMs) {
    throw new Error(`invalid configuration: streaming.hopMs (${res.data.streaming.hopMs}) must not exceed streaming.windowMs (${res.data.streaming.windowMs})`);
  }
  return deepFreeze(res.data);
}
