import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { grantPublish, grantSubscribe, registerAuthRoutes, ServerAuth, withoutPaths, type Grant } from '../auth/index.js';
import { EMOTIONS } from '../protocol/labels.js';
import { ERROR_CATALOGUE } from '../protocol/v1/errors.js';
import { PROTOCOL_VERSION, SUBPROTOCOL } from '../protocol/v1/messages.js';
import { MODEL_SAMPLE_RATE } from '../streaming/audio-input.js';
import type { OnnxRunnerFactory } from '../contracts/models.js';
import { createModelPool, defaultLoaders, loadServerModels, type ModelLoaders, type ModelRegistry } from '../compose/models.js';
import { loadConfig, type AppConfig, type ConfigInput } from './config.js';
import { browserUrl, createLogger } from './logger.js';
import { aggregateMetricsText, createMetrics, loopMetricsJson, type Metrics } from './metrics.js';
import type { ClusterBus } from '../cluster/bus.js';
import { RouteTable, json, type HttpRequest, type HttpResponse } from './routes.js';
import { SessionManager } from './session-api.js';
import type { Transport, TransportHooks, UpgradeDecision, WsHandlers } from './transport.js';
import { createWsTransport } from './transport-ws.js';
import { createUwsTransport, loadUws } from './transport-uws.js';
import { streamConnection, subscribeConnection } from './ws-handlers.js';
import { Alerting, type AlertListener } from '../alerts/alerting.js';
import { openHistory, type OpenedHistory } from '../storage/open.js';
import type { History } from '../storage/recorder.js';
import { registerHistoryRoutes } from '../storage/http.js';
import { lateJoinConnection } from '../storage/late-join.js';
import { replayGrant } from '../storage/access.js';
import { modelVersions } from '../storage/model-versions.js';

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
  /** This server is one node of several (server processes on one host, or a Redis cluster): src/cluster. */
  bus?: ClusterBus;
}

/** What plugins (WebRTC ingest, ...) receive: see docs/architecture.md. */
export interface ServerPluginApi {
  config: Readonly<AppConfig>;
  logger: Logger;
  routes: RouteTable;
  sessions: SessionManager;
  metrics: Metrics['registry'];
  /** The other server processes and nodes (src/cluster, docs/scale-out.md), else null. */
  cluster: ClusterBus | null;
  /** Session history (src/storage; `recordAlert` stores alerts), null with storage.databaseUrl=none. */
  history: History | null;
  /** Access control (src/auth, docs/security.md): authenticate a request, check scopes and session owners. */
  auth: ServerAuth;
  onClose(fn: () => Promise<void> | void): void;
  /**
   * Every alert this event loop fires (docs/alerts.md), after it went to the session and its subscribers: the hook for
   * storage and other consumers. Runs on the streaming path: queue, do not wait.
   */
  onAlert(listener: AlertListener): void;
}

export interface EmoServer extends ServerPluginApi {
  readonly models: ModelRegistry;
  readonly transportName: 'uws' | 'ws';
  listen(): Promise<number>;
  readonly port: number;
  /**
   * Graceful: stop accepting; with `drainMs` (SIGTERM) let running sessions end by themselves that long first; then
   * flush each remaining session's final result, close with 1001, leave the cluster, release models.
   */
  close(opts?: { drainMs?: number }): Promise<void>;
}

function pickTransport(config: Readonly<AppConfig>, hooks: TransportHooks, log: Logger, uwsLoader: typeof loadUws): Transport {
  const limits = {
    // Frames up to twice the protocol limit reach the codec, which answers EMO_ERR_FRAME_TOO_LARGE; bigger ones are
    // cut off by the transport itself (close 1009). uWS cannot send a close frame past the most it buffers: up to 4x
    // the limit the client still gets 1009, beyond that a dropped connection (docs/protocol.md).
    maxMessageBytes: Math.min(config.server.maxFrameBytes * 2, 128 * 1024 * 1024),
    bufferCeilingBytes: Math.min(config.server.maxFrameBytes * 4, 256 * 1024 * 1024),
    idleTimeoutS: config.server.idleTimeoutS,
    maxBackpressureBytes: config.server.maxSendBufferBytes * 4,
  };
  const tls = config.server.tls.certFile && config.server.tls.keyFile ? { certFile: config.server.tls.certFile, keyFile: config.server.tls.keyFile } : undefined;
  if (config.server.transport === 'uws') {
    try {
      return createUwsTransport(hooks, limits, uwsLoader(), tls);
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'uWebSockets.js failed to load; falling back to the ws transport');
    }
  }
  return createWsTransport(hooks, limits, tls);
}

export async function createEmoServer(opts: CreateServerOptions = {}): Promise<EmoServer> {
  const config = opts.config ?? loadConfig({ overrides: opts.overrides });
  const logger = opts.logger ?? createLogger(config, { service: 'emostream', ...(opts.bus ? { node: opts.bus.nodeId } : {}) });
  const metrics = createMetrics();
  const pool = opts.runnerFactory ? null : createModelPool({
    workers: config.models.workers, intraOpThreads: config.models.intraOpThreads, executionProvider: config.models.executionProvider,
    allowSoftwareAdapter: config.models.allowSoftwareAdapter,
    log: (level, msg) => logger[level](msg),
  });
  const runnerFactory = opts.runnerFactory ?? pool!.runnerFactory;
  const served = await loadServerModels(
    { ...config.models, video: config.models.video }, config.streaming.featureWorkers,
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
  const models = served.registry;
  for (const s of models.status()) metrics.modelAvailable.set({ model: String(s.details?.role ?? s.name), provider: s.provider ?? 'none' }, s.available ? 1 : 0);

  const auth = new ServerAuth(config.server, logger);
  const alerting = new Alerting(config.alerts, metrics, logger);
  const sessions = new SessionManager(config, served, metrics, logger, alerting);
  let storage: OpenedHistory | null;
  try {
    storage = await openHistory(config, metrics.registry, (level, msg, extra) => logger[level](extra ?? {}, msg));
  } catch (err) {
    await served.dispose();
    await pool?.close();
    throw err;
  }
  sessions.recorder = storage?.history ?? null;
  if (storage) storage.history.modelVersions = modelVersions(models.status());
  // Every alert fired is stored with its session (the report page shows them on the time axis).
  if (storage) alerting.onAlert((a) => storage.history.recordAlert(a));
  const bus = opts.bus ?? null;
  const routes = new RouteTable(config.http.bodyLimitBytes);
  let draining = false;
  let statusTimer: NodeJS.Timeout | null = null;
  if (bus) {
    sessions.joinCluster(bus);
    bus.answer('metrics', () => loopMetricsJson(metrics.registry));
    bus.answer('sessions', () => sessions.size);
    // A gauge read at scrape time (the bus counts): cross-node messages lost while Redis was down or behind.
    new Gauge({
      name: 'emostream_cluster_messages_dropped', help: 'cross-node messages this node could not hand to the cluster bus (Redis down or behind, a process gone)',
      registers: [metrics.registry], collect() { this.set(bus.droppedMessages); },
    });
    statusTimer = setInterval(() => bus.setStatus({ sessions: sessions.size, draining }), config.cluster.heartbeatMs);
    statusTimer.unref();
  }
  const startedAt = Date.now();
  const closeHooks: (() => Promise<void> | void)[] = [];

  routes.add('GET', '/healthz', async () => {
    // With several processes the count is this host's (asked live); a process that does not answer within 250 ms is
    // left out, and `processesAnswered` says so rather than the probe waiting on it. The cluster's other hosts are
    // counted from their heartbeats. The status (and the 503) is this node's own, for the load balancer's check.
    const view = bus ? await clusterView(bus) : null;
    const others = view ? await bus!.ask<number>(view.group, 'sessions', null, 250) : [];
    return json(draining ? 503 : 200, {
      status: draining ? 'draining' : 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000),
      sessions: others.reduce((n, k) => n + k, sessions.size),
      ...(view ? { node: bus!.nodeId, processes: Math.max(1, view.group.length), processesAnswered: 1 + others.length, cluster: view.cluster } : {}),
      transport: transport.name, models: Object.fromEntries(models.status().map((s) => [String(s.details?.role ?? s.name), s.available])),
    });
  });
  routes.add('GET', '/metrics', async (req) => {
    const who = await auth.authorize(req, 'admin');
    if (!who.ok) return auth.respond(who.refusal);
    // With several processes every scrape sees this host's whole server: the other processes' counters are summed in
    // (other hosts are scraped on their own: metrics are per node).
    const group = bus ? (await clusterView(bus)).group : [];
    const others = bus ? await bus.ask<Awaited<ReturnType<typeof loopMetricsJson>>>(group, 'metrics', null, 1000) : [];
    return { status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await aggregateMetricsText(metrics.registry, others) };
  });
  routes.add('GET', '/v1/models', async (req) => {
    const who = await auth.authenticate(req);
    if (!who.ok) return auth.respond(who.refusal);
    // Filesystem paths only for an authenticated admin (docs/security.md); everyone else gets them cut out.
    return json(200, auth.isAuthenticatedAdmin(who.identity) ? modelsInfo() : withoutPaths(modelsInfo()));
  });
  registerAuthRoutes(routes, auth, async (id) => sessions.ownerOf(id) ?? await sessions.ownerElsewhere(id));
  const modelsInfo = () => ({
    protocol: PROTOCOL_VERSION, labels: EMOTIONS, sampleRate: MODEL_SAMPLE_RATE,
    windowMs: config.streaming.windowMs, hopMs: config.streaming.hopMs,
    executionProvider: config.models.executionProvider, workers: config.models.workers,
    featureWorkers: served.features?.size ?? 0,
    batching: config.models.batching, models: models.status(),
    // Models whose GPU failed mid-run and that now run on the CPU (their `provider` above already says cpu).
    providerFallbacks: pool?.fallbacks ?? [],
  });
  const refuseUpgrade = (g: Extract<Grant, { ok: false }>): UpgradeDecision => {
    metrics.errors.inc({ code: g.refusal.code });
    const r = auth.respond(g.refusal);
    return { accept: false, status: r.status, body: r.body, headers: r.headers };
  };
  /** The slot a grant holds is given back when the connection closes. */
  const releasing = (release: () => void, h: WsHandlers): WsHandlers => ({
    onMessage: (d, b) => h.onMessage(d, b),
    onClose: (code) => {
      release();
      h.onClose(code);
    },
  });

  const hooks: TransportHooks = {
    upgrade: (req) => {
      if (req.path !== '/v1/stream' && req.path !== '/v1/subscribe') return { accept: false, status: 404, body: `no WebSocket endpoint at ${req.path}; use /v1/stream or /v1/subscribe` };
      if (draining) {
        metrics.errors.inc({ code: 'EMO_ERR_DRAINING' });
        return { accept: false, status: 503, body: `EMO_ERR_DRAINING: ${ERROR_CATALOGUE.EMO_ERR_DRAINING.text}` };
      }
      if (req.protocols.length > 0 && !req.protocols.includes(SUBPROTOCOL)) {
        metrics.errors.inc({ code: 'EMO_ERR_BAD_SUBPROTOCOL' });
        return { accept: false, status: 400, body: `EMO_ERR_BAD_SUBPROTOCOL: offer the WebSocket subprotocol ${SUBPROTOCOL}` };
      }
      const protocol = req.protocols.includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
      if (req.path === '/v1/stream') {
        return grantPublish(auth, req, sessions).then((g) => (g.ok
          ? { accept: true, protocol, open: (conn) => releasing(g.release, streamConnection(conn, sessions, config, metrics, { identity: g.identity, remoteAddress: req.remoteAddress })) }
          : refuseUpgrade(g)));
      }
      const id = req.query.get('session');
      return grantSubscribe(auth, req, id, sessions).then(async (g) => {
        if (!g.ok) return refuseUpgrade(g);
        const since = req.query.get('since');
        if (since === null || !storage) return { accept: true, protocol, open: (conn) => releasing(g.release, subscribeConnection(conn, id, sessions, config, metrics, req.query.get('driverState') === '1')) };
        // A replay hands out stored results: it needs history:read as well as subscribe.
        const read = await replayGrant(auth, req, id, sessions);
        if (!read.ok) {
          g.release();
          return refuseUpgrade(read);
        }
        const history = storage.history;
        return { accept: true, protocol, open: (conn) => releasing(g.release, lateJoinConnection(conn, id, since, sessions, history, config, metrics)) };
      });
    },
    // In a cluster every HTTP answer says which node gave it (connections are spread by the kernel or the balancer).
    http: bus
      ? async (req) => {
        const res = await guardedDispatch(req);
        return { ...res, headers: { ...res.headers, 'x-emostream-node': bus.nodeId } };
      }
      : (req) => guardedDispatch(req),
    bodyLimit: (method, path) => routes.bodyLimit(method, path),
    tooLarge: (method, path, limitBytes) => routes.tooLarge(method, path, limitBytes),
  };
  /** Origin policy on the API (cross-origin pages outside server.allowedOrigins get 403) and on every CORS header. */
  const guardedDispatch = async (req: Omit<HttpRequest, 'params'>): Promise<HttpResponse> => {
    const { origin, host } = req.headers;
    const api = req.path.startsWith('/v1/') || req.path === '/metrics';
    const why = api ? auth.origins.check(origin, host) : null;
    const res = why ? auth.respond(why) : await routes.dispatch(req);
    if (!res.headers || !('access-control-allow-origin' in res.headers)) return res;
    const headers = { ...res.headers };
    const allow = auth.origins.corsOrigin(origin, host);
    if (allow) headers['access-control-allow-origin'] = allow;
    else delete headers['access-control-allow-origin'];
    if (allow !== '*') headers.vary = headers.vary ? `${headers.vary}, Origin` : 'Origin';
    return { ...res, headers };
  };
  const transport = pickTransport(config, hooks, logger, opts.uwsLoader ?? loadUws);
  let port = 0;

  const api: EmoServer = {
    config, logger, routes, sessions, metrics: metrics.registry, models, cluster: bus, auth, history: storage?.history ?? null,
    get transportName() { return transport.name; },
    get port() { return port; },
    onClose: (fn) => { closeHooks.push(fn); },
    onAlert: (listener) => alerting.onAlert(listener),
    listen: async () => {
      port = await transport.listen(config.server.host, config.server.port);
      const scheme = config.server.tls.certFile ? 'https' : 'http';
      const url = browserUrl(config.server.host, port, scheme);
      logger.info({ host: config.server.host, port, transport: transport.name, auth: auth.authenticator.mode, url }, `emostream listening on ${url} (${transport.name}, auth ${auth.authenticator.mode})`);
      if (!auth.enabled && !isLoopback(config.server.host) && !opts.bus?.nodeId.match(/\/[1-9]\d*$/)) {
        logger.warn({ host: config.server.host, auth: 'none' }, `SECURITY WARNING: listening on ${config.server.host} with server.auth.mode none: anyone who can reach this port can stream, read every session's results and end sessions. Set EMOSTREAM_AUTH=jwt (docs/security.md) or bind 127.0.0.1.`);
      }
      return port;
    },
    close: async (how) => {
      if (draining) return;
      // While sessions drain the port stays open: load balancers read /healthz (503 "draining") and new WebSocket
      // upgrades get 503; only then does the listener close.
      draining = true;
      bus?.setStatus({ sessions: sessions.size, draining });
      if (how?.drainMs) {
        logger.info({ drainTimeoutMs: how.drainMs, sessions: sessions.size }, 'draining: no new sessions; waiting for running ones to end');
        await sessions.quiesce(how.drainMs);
      }
      await sessions.drain(config.server.shutdownGraceMs);
      await alerting.close(config.server.shutdownGraceMs);
      for (const fn of closeHooks) {
        try {
          await fn();
        } catch (err) {
          logger.error({ err }, 'plugin close hook failed');
        }
      }
      transport.stopAccepting();
      // After every session and plugin has ended: their last results and ends are in the queue.
      await storage?.close(config.server.shutdownGraceMs);
      await served.dispose();
      await pool?.close();
      await transport.close();
      if (statusTimer) clearInterval(statusTimer);
      // Last: the directory forgets this node only after its sessions ended and their subscribers were told.
      await bus?.close();
      logger.info('emostream stopped');
    },
  };

  if (storage) registerHistoryRoutes(routes, storage.history, config.storage.maxPageResults, auth);
  const staticDir = resolve(config.http.staticDir);
  await loadPlugins(api, config.plugins, logger);
  if (existsSync(staticDir)) routes.static('/', staticDir);
  return api;
}

/** The processes of this node's host (its group in the directory) and the cluster's totals from the heartbeats. */
async function clusterView(bus: ClusterBus): Promise<{ group: string[]; cluster: { nodes: number; sessions: number; draining: number } }> {
  const nodes = await bus.nodes().catch(() => []);
  const group = nodes.filter((n) => n.group === bus.group).map((n) => n.id);
  return {
    group,
    cluster: { nodes: nodes.length, sessions: nodes.reduce((k, n) => k + n.sessions, 0), draining: nodes.filter((n) => n.draining).length },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
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
