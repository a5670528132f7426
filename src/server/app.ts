import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { EMOTIONS } from '../protocol/labels.js';
import { PROTOCOL_VERSION, SUBPROTOCOL } from '../protocol/v1/messages.js';
import { MODEL_SAMPLE_RATE } from '../streaming/audio-input.js';
import type { OnnxRunnerFactory } from '../models/backend.js';
import { ModelRegistry, defaultLoaders, type ModelLoaders } from '../models/registry.js';
import { OnnxWorkerPool } from '../models/worker-pool.js';
import { loadConfig, type AppConfig, type ConfigInput } from './config.js';
import { aggregateMetricsText, createMetrics, loopMetricsJson, type Metrics } from './metrics.js';
import { ShardBus, type ShardInfo } from './shard-bus.js';
import { RouteTable, json } from './routes.js';
import { SessionManager } from './session-api.js';
import type { Transport, TransportHooks } from './transport.js';
import { createWsTransport } from './transport-ws.js';
import { createUwsTransport, loadUws } from './transport-uws.js';
import { streamConnection, subscribeConnection } from './ws-handlers.js';

export interface CreateServerOptions {
  config?: Readonly<AppConfig>;
  /** Used when `config` is absent: merged over file/env like the CLI does. */
  overrides?: ConfigInput;
  logger?: Logger;
  loaders?: ModelLoaders;
  /** Replaces the worker pool (e.g. in-process runners); the pool is the default. */
  runnerFactory?: OnnxRunnerFactory;
  /** Loads the uWS binding (tests inject a failing one to exercise the fallback). */
  uwsLoader?: typeof loadUws;
  /** This server is one of several event loops on one port (src/server/event-loops.ts). */
  shard?: ShardInfo;
}

/** What plugins (WebRTC ingest, ...) receive: see docs/architecture.md. */
export interface ServerPluginApi {
  config: Readonly<AppConfig>;
  logger: Logger;
  routes: RouteTable;
  sessions: SessionManager;
  metrics: Metrics['registry'];
  /** The server's other event loops (server.eventLoops > 1), else null. */
  shards: ShardBus | null;
  onClose(fn: () => Promise<void> | void): void;
}

export interface EmoServer extends ServerPluginApi {
  readonly models: ModelRegistry;
  readonly transportName: 'uws' | 'ws';
  listen(): Promise<number>;
  readonly port: number;
  /** Graceful: stop accepting, flush each session's final result, close with 1001, release models. */
  close(): Promise<void>;
}

function pickTransport(config: Readonly<AppConfig>, hooks: TransportHooks, log: Logger, uwsLoader: typeof loadUws): Transport {
  const limits = {
    // Frames up to twice the protocol limit reach the codec, which answers EMO_ERR_FRAME_TOO_LARGE; bigger ones are
    // cut off by the transport itself (close 1009).
    maxMessageBytes: Math.min(config.server.maxFrameBytes * 2, 128 * 1024 * 1024),
    idleTimeoutS: config.server.idleTimeoutS,
    maxBackpressureBytes: config.server.maxSendBufferBytes * 4,
  };
  if (config.server.transport === 'uws') {
    try {
      return createUwsTransport(hooks, limits, uwsLoader());
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'uWebSockets.js failed to load; falling back to the ws transport');
    }
  }
  return createWsTransport(hooks, limits);
}

export async function createEmoServer(opts: CreateServerOptions = {}): Promise<EmoServer> {
  const config = opts.config ?? loadConfig({ overrides: opts.overrides });
  const logger = opts.logger ?? pino({ level: config.log.level, base: { service: 'emostream', ...(opts.shard ? { eventLoop: opts.shard.index } : {}) } });
  const metrics = createMetrics();
  const pool = opts.runnerFactory ? null : new OnnxWorkerPool({
    workers: config.models.workers, intraOpThreads: config.models.intraOpThreads, executionProvider: config.models.executionProvider,
    allowSoftwareAdapter: config.models.allowSoftwareAdapter,
    log: (level, msg) => logger[level](msg),
  });
  const runnerFactory = opts.runnerFactory ?? pool!.runnerFactory;
  const models = await ModelRegistry.load(
    { ...config.models, video: config.models.video, featureWorkers: config.streaming.featureWorkers },
    runnerFactory,
    opts.loaders ?? defaultLoaders,
    {
      log: (level, msg, extra) => logger[level](extra ?? {}, msg),
      onBatch: (model, size, ms) => {
        metrics.batchSize.observe({ model }, size);
        metrics.modelInferMs.observe({ model }, ms);
      },
      onWindowError: (model) => metrics.modelWindowErrors.inc({ model }),
    },
    config,
  );
  for (const s of models.status()) metrics.modelAvailable.set({ model: String(s.details?.role ?? s.name), provider: s.provider ?? 'none' }, s.available ? 1 : 0);

  const sessions = new SessionManager(config, models, metrics, logger);
  const shards = opts.shard && opts.shard.count > 1 ? new ShardBus(opts.shard) : null;
  if (shards) {
    sessions.joinShards(shards);
    shards.answer('metrics', () => loopMetricsJson(metrics.registry));
    shards.answer('sessions', () => sessions.size);
  }
  const routes = new RouteTable(config.http.bodyLimitBytes);
  let draining = false;
  const startedAt = Date.now();
  const closeHooks: (() => Promise<void> | void)[] = [];

  routes.add('GET', '/healthz', async () => {
    // With several event loops the count is the whole server's; a loop that does not answer within 250 ms is left
    // out, and `eventLoopsAnswered` says so rather than the probe waiting on it.
    const others = shards ? await shards.ask<number>('sessions', null, 250) : [];
    return json(draining ? 503 : 200, {
      status: draining ? 'draining' : 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000),
      sessions: others.reduce((n, k) => n + k, sessions.size),
      ...(shards ? { eventLoops: shards.info.count, eventLoopsAnswered: 1 + others.length } : {}),
      transport: transport.name, models: Object.fromEntries(models.status().map((s) => [String(s.details?.role ?? s.name), s.available])),
    });
  });
  routes.add('GET', '/metrics', async () => {
    // With several event loops every scrape sees the whole server: the other loops' counters are summed in.
    const others = shards ? await shards.ask<Awaited<ReturnType<typeof loopMetricsJson>>>('metrics', null, 1000) : [];
    return { status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await aggregateMetricsText(metrics.registry, others) };
  });
  routes.add('GET', '/v1/models', () => json(200, {
    protocol: PROTOCOL_VERSION, labels: EMOTIONS, sampleRate: MODEL_SAMPLE_RATE,
    windowMs: config.streaming.windowMs, hopMs: config.streaming.hopMs,
    executionProvider: config.models.executionProvider, workers: config.models.workers,
    featureWorkers: models.features?.size ?? 0,
    batching: config.models.batching, models: models.status(),
    // Models whose GPU failed mid-run and that now run on the CPU (their `provider` above already says cpu).
    providerFallbacks: pool?.fallbacks ?? [],
  }));

  const hooks: TransportHooks = {
    upgrade: (req) => {
      if (req.path !== '/v1/stream' && req.path !== '/v1/subscribe') return { accept: false, status: 404, body: `no WebSocket endpoint at ${req.path}; use /v1/stream or /v1/subscribe` };
      if (draining) return { accept: false, status: 503, body: 'server shutting down' };
      if (req.protocols.length > 0 && !req.protocols.includes(SUBPROTOCOL)) {
        metrics.errors.inc({ code: 'EMO_ERR_BAD_SUBPROTOCOL' });
        return { accept: false, status: 400, body: `EMO_ERR_BAD_SUBPROTOCOL: offer the WebSocket subprotocol ${SUBPROTOCOL}` };
      }
      const protocol = req.protocols.includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
      if (req.path === '/v1/stream') return { accept: true, protocol, open: (conn) => streamConnection(conn, sessions, config, metrics) };
      const id = req.query.get('session');
      return { accept: true, protocol, open: (conn) => subscribeConnection(conn, id, sessions, config, metrics, req.query.get('driverState') === '1') };
    },
    // With several event loops every HTTP answer says which loop gave it (connections are spread by the kernel).
    http: shards
      ? async (req) => {
        const res = await routes.dispatch(req);
        return { ...res, headers: { ...res.headers, 'x-emostream-event-loop': String(shards.index) } };
      }
      : (req) => routes.dispatch(req),
    bodyLimit: (method, path) => routes.bodyLimit(method, path),
  };
  const transport = pickTransport(config, hooks, logger, opts.uwsLoader ?? loadUws);
  let port = 0;

  const api: EmoServer = {
    config, logger, routes, sessions, metrics: metrics.registry, models, shards,
    get transportName() { return transport.name; },
    get port() { return port; },
    onClose: (fn) => { closeHooks.push(fn); },
    listen: async () => {
      port = await transport.listen(config.server.host, config.server.port);
      logger.info({ host: config.server.host, port, transport: transport.name }, `emostream listening on ${config.server.host}:${port} (${transport.name})`);
      return port;
    },
    close: async () => {
      if (draining) return;
      draining = true;
      transport.stopAccepting();
      await sessions.drain(config.server.shutdownGraceMs);
      for (const fn of closeHooks) {
        try {
          await fn();
        } catch (err) {
          logger.error({ err }, 'plugin close hook failed');
        }
      }
      await models.dispose();
      await pool?.close();
      await transport.close();
      shards?.close();
      logger.info('emostream stopped');
    },
  };

  const staticDir = resolve(config.http.staticDir);
  await loadPlugins(api, config.plugins, logger);
  if (existsSync(staticDir)) routes.static('/', staticDir);
  return api;
}

async function loadPlugins(api: ServerPluginApi, plugins: readonly string[], log: Logger): Promise<void> {
  for (const p of plugins) {
    const url = new URL(p, import.meta.url).href;
    let mod: { register?: (api: ServerPluginApi) => Promise<void> | void };
    try {
      mod = (await import(url)) as typeof mod;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(p.replace(/^\.\.\//, '').replace(/\.ts$/, ''))) log.info(`plugin ${p} not present; skipped`);
      else log.error({ err: err instanceof Error ? err.message : String(err) }, `plugin ${p} failed to load; skipped`);
      continue;
    }
    if (typeof mod.register !== 'function') {
      log.error(`plugin ${p} has no register(api) export; skipped`);
      continue;
    }
    try {
      await mod.register(api);
      log.info(`plugin ${p} registered`);
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, `plugin ${p} register() failed; skipped`);
    }
  }
}
