import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_SMOOTHING } from '../streaming/posterior-smoother.js';
import { alertsConfigSchema } from '../alerts/config.js';
import { authConfigSchema, limitsConfigSchema } from '../auth/config.js';
import { FACE_POSTERIOR_MODES } from '../face/face-posterior.js';
import { faceSettingsShape } from '../face/config.js';

/** streaming.featureWorkers when not configured: one front-end worker where a second core can run it. */
export const DEFAULT_FEATURE_WORKERS = availableParallelism() >= 2 ? 1 : 0;

/**
 * Server configuration: one zod schema holding every default, filled from an optional JSON file, then environment
 * variables (which win), validated, and deep-frozen. docs/configuration.md documents every key.
 */
export const configSchema = z.object({
  server: z.object({
    /** Loopback by default: exposing the server is a decision (docs/security.md); auth none + another host warns. */
    host: z.string().min(1).default('127.0.0.1').describe('interface to bind (flag `serve --host`). Loopback by default; `0.0.0.0` exposes the server, and with `server.auth.mode` none logs one SECURITY WARNING line ([security.md](security.md))'),
    port: z.number().int().min(0).max(65535).default(8080).describe('port (0 = any free port)'),
    /** uws (uWebSockets.js) or ws (node:http + ws). uws falls back to ws when it fails to load. */
    transport: z.enum(['uws', 'ws']).default('uws').describe('`uws` (uWebSockets.js) or `ws` (node:http + ws). `uws` falls back to `ws` with a warning when the native binding cannot load'),
    /** Hard limit on one binary frame (header included). */
    maxFrameBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024).describe('hard limit on one binary frame'),
    /** Hard limit on one JSON control message. */
    maxControlBytes: z.number().int().min(256).max(1024 * 1024).default(64 * 1024).describe('hard limit on one JSON control message'),
    maxSessions: z.number().int().min(1).default(512).describe('streaming sessions at once'),
    maxSubscribersPerSession: z.number().int().min(0).default(64).describe('subscribers per session'),
    /** A subscriber (or a streaming client) whose unsent backlog exceeds this is closed with EMO_ERR_SLOW_CONSUMER. */
    maxSendBufferBytes: z.number().int().min(1024).default(1024 * 1024).describe('unsent backlog per connection before it is closed as a slow consumer (4021); every message kind counts (results, errors, pongs)'),
    /** A streaming client must send hello within this long after connecting. */
    helloTimeoutMs: z.number().int().min(100).default(10000).describe('a client that sends no hello by then gets EMO_ERR_BAD_HELLO and is closed (4000)'),
    /** Seconds without any message before a WebSocket is closed. */
    idleTimeoutS: z.number().int().min(8).max(960).default(120).describe('close a WebSocket silent for this long (the server pings, so live peers stay)'),
    /** How long graceful shutdown waits for final results. */
    shutdownGraceMs: z.number().int().min(0).default(3000).describe('how long shutdown waits for final results'),
    /** A frame whose ptsUs lies further ahead of the session clock is refused (EMO_ERR_TIMESTAMP_JUMP). */
    maxPtsJumpMs: z.number().int().min(100).max(3_600_000).default(10000).describe('a frame whose ptsUs lies further ahead of the session clock is refused with `EMO_ERR_TIMESTAMP_JUMP` (100-3600000)'),
    /** Sessions may not send media faster than this many times real time, after a burst (EMO_ERR_RATE_LIMITED). */
    maxRealtimeFactor: z.number().min(1).max(10000).default(4).describe('media faster than this x real time (after the burst) is refused with `EMO_ERR_RATE_LIMITED`, reported at most once a second (1-10000)'),
    /** Media time a session may send at once beyond the real-time budget (a short file with --fast). */
    realtimeBurstMs: z.number().int().min(0).max(3_600_000).default(10000).describe('media a session may send at once beyond the real-time budget: the token bucket\'s size (a short file with `stream --fast`)'),
    /** A session with no accepted media frame for this long is ended (EMO_ERR_IDLE, close 4034). */
    idleSessionTimeoutMs: z.number().int().min(100).max(86_400_000).default(30000).describe('a session with no media frame accepted for this long is ended with `EMO_ERR_IDLE` (close 4034); pings and refused frames do not count (100-86400000)'),
    /**
     * Event loops that serve connections (uws transport): 1 = this thread alone; N > 1 starts N - 1 more threads, each
     * a whole server (its sessions, model and feature workers) on the same port, the kernel spreading connections
     * over them (SO_REUSEPORT). One event loop handles every socket message of its sessions (~80 per session-second),
     * so on a many-core or GPU host it, not the models, bounds a single loop. Subscribers, WHIP DELETE and /metrics
     * work across loops. maxSessions is the total, split evenly.
     */
    eventLoops: z.number().int().min(1).max(64).default(1).describe('deprecated alias of `server.processes` (flag `serve --event-loops N`, env EMOSTREAM_EVENT_LOOPS): eventLoops N > 1 with processes 1 means N processes'),
    processes: z.number().int().min(1).max(256).default(1).describe('server processes on this host (flag `serve --processes N`, src/cluster/processes.ts): 1 = this process alone; N > 1 = N whole servers (each its own sessions, models and workers) on the same port (SO_REUSEPORT, uws transport), started, restarted and stopped by the first; guidance: one per two cores (docs/scale-out.md)'),
    drainTimeoutMs: z.number().int().min(0).max(86_400_000).default(30000).describe('on SIGTERM a node refuses new sessions (/healthz 503 "draining", EMO_ERR_DRAINING) and lets running ones finish this long (ms), then deregisters and exits'),
    /** Access control: credentials, scopes, failed-attempt limit (src/auth, docs/security.md). */
    auth: authConfigSchema.prefault({}),
    /** Concurrent sessions / subscriptions per identity and per remote address (0 = none beyond the totals). */
    limits: limitsConfigSchema.prefault({}),
    /** Browser origins allowed to open WebSockets and call the HTTP API cross-origin ('*' = any); see docs/security.md. */
    allowedOrigins: z.array(z.string().min(1)).default([]).describe('browser origins allowed to open WebSockets and call the API (`*` = any). Empty: with auth on, only the server\'s own page; with auth none, any (CORS `*`)'),
    /** TLS on the server's own port (uWS SSLApp / node:https); both files PEM. */
    tls: z.object({
      certFile: z.string().min(1).optional().describe('PEM certificate chain: the server speaks TLS itself (uWS SSLApp, node:https for `ws`); needs `keyFile` too (both or neither)'),
      keyFile: z.string().min(1).optional().describe('PEM private key of `certFile`; both or neither'),
    }).strict()
      .refine((t) => Boolean(t.certFile) === Boolean(t.keyFile), 'server.tls needs both certFile and keyFile').prefault({}),
  }).prefault({}),
  http: z.object({
    /** Served at / when the folder exists (the WebRTC web client). */
    staticDir: z.string().default('clients/web').describe('served at `/` when it exists'),
    bodyLimitBytes: z.number().int().min(0).default(1024 * 1024).describe('default request body limit for routes (413 beyond)'),
  }).prefault({}),
  streaming: z.object({
    windowMs: z.number().int().min(100).max(30000).default(3000).describe('analysis window'),
    hopMs: z.number().int().min(10).max(10000).default(500).describe('one result per hop; must be <= windowMs'),
    /** Hops waiting behind the one in inference, per session; the oldest is dropped beyond this. */
    maxPendingHops: z.number().int().min(1).max(64).default(2).describe('hops queued per session behind the one in inference; oldest dropped beyond'),
    /** Video frames analysed per second at most, per session. */
    videoAnalysisFps: z.number().min(0.1).max(60).default(10).describe('video frames analysed per second per session'),
    maxBufferedAudioChunks: z.number().int().min(1).default(256).describe('audio chunks held while a session\'s resampler is created'),
    /**
     * Worker threads that compute the speech front end (log-mel, pitch track, window functionals, speaker normaliser)
     * of every session off the event loop; 0 computes it on the event loop. Default 1 where the host has 2+ cores:
     * with the pitch-tracking speech model one worker raised the real-time capacity of the 2-core development
     * machine from 192 to 240 sessions with batching (160 -> 176 without; docs/performance.md section 4), at the
     * cost of a thread hop per window (~0.6 ms at light load). On one core a worker only adds hand-offs: 0.
     */
    featureWorkers: z.number().int().min(0).max(16).default(DEFAULT_FEATURE_WORKERS).meta({ docDefault: '1 on 2+ cores, else 0' }).describe('worker threads (0-16) that run the speech front end (incremental log-mel, pitch track, window functionals, speaker normaliser) instead of the event loop; windows are bit-identical either way. A worker more than its backlog behind, or one that crashes, gives its sessions `null` speech posteriors (a replacement serves new sessions). On the 2-core development machine one worker raised real-time capacity from 192 to 240 sessions with batching (160 -> 176 without) and costs a thread hop (~0.6 ms) per window; 0 keeps everything on the event loop (docs/performance.md)'),
    /** `smoothed` in every result: the fused posterior smoothed exponentially in session time, with a sticky label. */
    smoothing: z.object({
      /** Time for an old posterior's weight to halve; 0 = no smoothing (smoothed = fused). */
      halfLifeMs: z.number().min(0).max(600_000).default(DEFAULT_SMOOTHING.halfLifeMs).describe('`smoothed` in results (protocol 1.1): time for an old fused posterior\'s weight to halve, in session time; 0 = no smoothing (`smoothed` = `fused`)'),
      /** The smoothed label changes only when another class leads it by at least this much. */
      switchMargin: z.number().min(0).max(0.99).default(DEFAULT_SMOOTHING.switchMargin).describe('the smoothed label changes only when another class leads it by at least this much (0-0.99)'),
    }).prefault({}),
  }).prefault({}),
  models: z.object({
    executionProvider: z.enum(['auto', 'cpu', 'webgpu', 'cuda']).default('cpu').describe('`cpu`, `auto` (cuda -> webgpu -> cpu, first that works, one log line per fallback), `webgpu`, `cuda` (explicit: failure at load makes the model unavailable with the reason; no silent CPU fallback; a device that fails mid-run moves that model to the CPU, reported in `/v1/models` `providerFallbacks`). See docs/gpu.md'),
    /** ONNX worker threads (each holds every model). */
    workers: z.number().int().min(1).max(64).default(1).describe('ONNX worker threads; every model is loaded in each'),
    intraOpThreads: z.number().int().min(1).max(64).default(1).describe('ONNX Runtime threads per session'),
    /**
     * Let WebGPU use a software Vulkan device (Mesa lavapipe, SwiftShader). Off by default: such a device runs the
     * models on the CPU, slower than the CPU provider, and `auto` would otherwise pick it. On for tests and CI.
     */
    allowSoftwareAdapter: z.boolean().default(false).describe('let WebGPU use a software Vulkan device (Mesa lavapipe, SwiftShader); hidden by default because it is slower than the CPU provider and `auto` would pick it. For tests and CI (docs/gpu.md)'),
    speech: z.object({
      enabled: z.boolean().default(true).describe('speech model'),
      dir: z.string().optional().describe('speech model folder').meta({ docDefault: 'models/speech' }),
      /**
       * Voice-activity gate (protocol 1.1): a window whose share of speech (Silero VAD chunks) is below this gets
       * `speech: null`; 0 = gate off (the ratio is still reported in `voice`). models/speech/vad-report.md.
       */
      minSpeechRatio: z.number().min(0).max(1).default(0.3).describe('voice-activity gate (protocol 1.1 `voice`): a window whose share of speech (Silero VAD v4 chunks of 96 ms, run beside the speech front end) is below this gets `speech: null`, and fusion uses the other modalities; 0 turns the gate off (the ratio is still reported). Figures: models/speech/vad-report.md'),
    }).prefault({}),
    face: z.object({
      enabled: z.boolean().default(true).describe('AU face model'),
      dir: z.string().optional().describe('AU face model folder').meta({ docDefault: 'models/face' }),
    }).prefault({}),
    fusion: z.object({
      enabled: z.boolean().default(true).describe('late fusion'),
      dir: z.string().optional().describe('late fusion model folder').meta({ docDefault: 'models/fusion' }),
    }).prefault({}),
    /**
     * The video analyzer (src/face): `enabled`, the face pipeline's own settings (faceSettingsShape in
     * src/face/config.ts: one definition of their bounds, defaults and descriptions) and the face posterior's. The
     * whole frozen config goes to `loadVideoAnalyzer(config)`, which reads this section.
     */
    video: z.object({
      enabled: z.boolean().default(true).describe('video analyzer (src/face) for video frames'),
      ...faceSettingsShape,
      /** How a video window's face posterior is made (src/face/face-posterior.ts; models/face/transfer-report.md). */
      facePosterior: z.enum(FACE_POSTERIOR_MODES).default('pool').describe('face posterior of video windows: `pool` (log-linear pool of expression net, AU model and FACS rules), `expression`, `au-model` or `facs` (models/face/transfer-report.md)'),
      /** Smoothing of the face posterior over a session's windows (results' face.smoothed): half-life, 0 = off. */
      faceSmoothingHalfLifeMs: z.number().min(0).max(600_000).default(DEFAULT_SMOOTHING.halfLifeMs).describe('half-life of the smoothed face posterior (`face.smoothed` in results); 0 = off'),
      /** Hysteresis of the smoothed face label: another class must lead by this much to take over. */
      faceSmoothingSwitchMargin: z.number().min(0).max(0.99).default(DEFAULT_SMOOTHING.switchMargin).describe('hysteresis: the smoothed face label changes only when another class leads it by this much'),
    }).strict().prefault({}),
    batching: z.object({
      enabled: z.boolean().default(true).describe('dynamic batching across sessions (`false` = one call per window)'),
      maxBatch: z.number().int().min(1).max(1024).default(32).describe('windows per model call at most'),
      maxDelayMs: z.number().min(0).max(1000).default(2).describe('longest a window waits for a batch to fill (Triton\'s max_queue_delay). 0 = go as soon as the model is free: lowest latency at low load, and batches still form behind a running call under load'),
      maxQueue: z.number().int().min(1).default(1024).describe('windows waiting per model; the oldest is dropped (and counted) beyond'),
      /** A model call that takes longer fails its windows (null posteriors) instead of stalling every session. */
      timeoutMs: z.number().int().min(10).default(5000).describe('a model call not finished by then fails its windows (null posteriors, logged) and frees its slot'),
    }).prefault({}),
  }).prefault({}),
  /** The WHIP/WebRTC ingest (src/webrtc, docs/webrtc.md); read by the plugin at start-up. */
  webrtc: z.object({
    iceTimeoutMs: z.number().int().min(0).default(10_000)
      .describe('a peer whose ICE/DTLS has not connected this long after the answer is dropped (`ice-timeout`)'),
    mediaTimeoutMs: z.number().int().min(0).default(6_000)
      .describe('a connected peer that sends no RTP this long is dropped (`media-timeout`)'),
    maxSessions: z.number().int().min(0).optional()
      .describe('concurrent WebRTC sessions; beyond it a WHIP offer gets 503 `EMO_ERR_WHIP_TOO_MANY_SESSIONS`')
      .meta({ docDefault: 'server.maxSessions' }),
    videoSize: z.string().regex(/^\d+x\d+$/, 'expected WIDTHxHEIGHT, e.g. 640x480')
      .refine((v) => v.split('x').every((n) => Number(n) > 0 && Number(n) % 2 === 0), 'expected an even WIDTHxHEIGHT, e.g. 640x480')
      .default('640x480')
      .describe('even `WIDTHxHEIGHT` that decoded WebRTC video is scaled into before analysis'),
    iceHosts: z.array(z.string().min(1)).default(['127.0.0.1'])
      .describe('extra host addresses to gather ICE candidates on (werift skips loopback otherwise)'),
    portRange: z.string().regex(/^\d+-\d+$/, 'expected MIN-MAX')
      .refine((v) => { const [lo, hi] = v.split('-').map(Number); return lo < hi && hi <= 65535; }, 'expected MIN-MAX with MIN < MAX <= 65535')
      .optional()
      .describe('`MIN-MAX` UDP ports for ICE, e.g. for a firewall').meta({ docDefault: '(any)' }),
  }).strict().prefault({}),
  /** Alert rules evaluated on every result, and the webhooks alerts are POSTed to (docs/alerts.md). */
  alerts: alertsConfigSchema.prefault({}),
  /** Session history (src/storage, docs/history.md). */
  storage: z.object({
    /** Unset = SQLite under dataDir; `sqlite:PATH`, `postgres://...`, or `none` (no history). */
    databaseUrl: z.string().optional().meta({ docDefault: 'unset (SQLite under storage.dataDir)' }).describe('session history (docs/history.md): unset = `<storage.dataDir>/emostream.sqlite`; `sqlite:PATH` = that SQLite file; `postgres://user:pass@host:5432/db` = PostgreSQL (several servers may share it); `none` = no history (the history API, report page and `since` are then absent)'),
    /** Folder of the default SQLite file (created when missing; relative to the working directory). */
    dataDir: z.string().min(1).default('data').describe('folder of the default SQLite file, relative to the working directory; created when missing (so a fresh clone works)'),
    /** Sessions older than this are erased by the daily purge; 0 keeps them for ever. */
    retentionDays: z.number().min(0).max(36500).default(30).describe('sessions that started longer ago are erased (results and alerts too) at start and then daily; 0 = keep for ever'),
    /** Rows waiting to be written; beyond, rows are dropped and counted (emostream_storage_rows_dropped_total). */
    maxQueueRows: z.number().int().min(100).max(10_000_000).default(100_000).describe('rows (results, session starts/ends, alerts) waiting to be written; beyond, rows are dropped and counted in `emostream_storage_rows_dropped_total` (streaming never waits for storage)'),
    batchRows: z.number().int().min(1).max(50_000).default(1000).describe('rows per write transaction at most'),
    flushIntervalMs: z.number().int().min(1).max(60_000).default(250).describe('a waiting row is written at the latest this long after it was queued (sooner when a batch fills)'),
    maxRetryDelayMs: z.number().int().min(10).max(600_000).default(5000).describe('failed writes are retried with delays doubling from flushIntervalMs up to this'),
    /** SQLite: longest a call waits for another process's lock before failing (writes are then retried). */
    busyTimeoutMs: z.number().int().min(0).max(60_000).default(1000).describe('SQLite: how long a call waits for another process\'s lock before failing (on the storage thread, never the event loop; writes are retried)'),
    /** PostgreSQL: connections, and the time limit of one connection attempt or statement. */
    poolSize: z.number().int().min(1).max(64).default(4).describe('PostgreSQL connections'),
    timeoutMs: z.number().int().min(100).max(600_000).default(5000).describe('PostgreSQL: limit on connecting and on each statement; a hung server fails the batch (retried)'),
    /** Results per timeline page (and per late-join replay) at most. */
    maxPageResults: z.number().int().min(10).max(1_000_000).default(10_000).describe('results per timeline page (and per late-join replay) at most'),
  }).prefault({}),
  /** Scale-out over several hosts (src/cluster, docs/scale-out.md). */
  cluster: z.object({
    redisUrl: z.string().url().optional().describe('Redis for the session directory and cross-node fan-out (redis://[:password@]host:port[/db]); none: single host.'),
    redisOptional: z.boolean().default(false).describe('Unreachable Redis at start: run single-node with a warning instead of exiting.'),
    nodeId: z.string().min(1).max(200).regex(/^[^\s*?[\]]+$/, 'no spaces or glob characters').optional().describe('This node\'s id in the directory (default hostname-pid; with several processes each adds /index).'),
    heartbeatMs: z.number().int().min(100).max(60_000).default(1000).describe('How often a node refreshes its directory entries.'),
    nodeTtlMs: z.number().int().min(300).max(600_000).default(3000).describe('Entries of a node that stopped refreshing them expire after this: its sessions\' subscribers elsewhere are told.'),
    maxPendingPublishes: z.number().int().min(1).max(1_000_000).default(10000).describe('Cross-node messages in flight to Redis at most; beyond, new ones are dropped and counted.'),
  }).strict().refine((c) => c.nodeTtlMs > c.heartbeatMs * 2, 'cluster.nodeTtlMs must be more than twice cluster.heartbeatMs').prefault({}),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino level (`silent` ... `trace`)'),
    /** json: one JSON object a line; pretty: readable lines; auto: pretty when stdout is a terminal, else json. */
    format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('`json` (one JSON object a line on stdout, for collectors and `jq`), `pretty` (readable lines via pino-pretty), `auto`: pretty when stdout is a terminal, JSON otherwise (a pipe, a file, systemd, a container log). With `pretty` on a terminal `serve` also prints `emostream listening on http://127.0.0.1:8080/ — open it in a browser`. Flag `serve --log-format`. The JSON listening line carries the same address as `url`'),
  }).prefault({}),
  /** Modules (relative to src/server/) whose `register(api)` is called at start-up; missing ones are skipped. */
  plugins: z.array(z.string()).default(['../webrtc/index.ts']).describe('modules (relative to src/server/) whose `register(api)` runs at start-up; absent ones are skipped'),
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
  EMOSTREAM_WEBRTC_ICE_TIMEOUT_MS: { path: ['webrtc', 'iceTimeoutMs'], type: 'int' },
  EMOSTREAM_WEBRTC_MEDIA_TIMEOUT_MS: { path: ['webrtc', 'mediaTimeoutMs'], type: 'int' },
  EMOSTREAM_WEBRTC_MAX_SESSIONS: { path: ['webrtc', 'maxSessions'], type: 'int' },
  EMOSTREAM_WEBRTC_VIDEO_SIZE: { path: ['webrtc', 'videoSize'], type: 'string' },
  EMOSTREAM_WEBRTC_ICE_HOSTS: { path: ['webrtc', 'iceHosts'], type: 'list' },
  EMOSTREAM_WEBRTC_PORT_RANGE: { path: ['webrtc', 'portRange'], type: 'string' },
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
