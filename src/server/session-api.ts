import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Identity } from '../auth/types.js';
import { EMOTIONS } from '../protocol/labels.js';
import { ProtocolError, ERROR_CATALOGUE } from '../protocol/v1/errors.js';
import { PROTOCOL_VERSION, type ServerMessage, type Welcome } from '../protocol/v1/messages.js';
import type { VideoFrameInput } from '../contracts/models.js';
import type { ServerModels } from '../compose/models.js';
import { SessionPipeline } from '../streaming/session-pipeline.js';
import { createMonoResampler } from '../streaming/resampler.js';
import type { AppConfig } from './config.js';
import type { Metrics } from './metrics.js';
import { StreamSession, type PcmInput, type SessionSink } from './session.js';
import { MediaAdmission } from './media-admission.js';
import { IdleReaper } from './idle-reaper.js';
import { SubscriberHub } from './subscribers.js';
import type { ClusterBus } from '../cluster/bus.js';
import type { Alerting } from '../alerts/alerting.js';
import type { SessionRecorder } from '../storage/recorder.js';

export type { SessionSink, PcmInput };

export interface OpenSessionOptions {
  sink: SessionSink;
  /** Free text for logs, e.g. 'webrtc/werift' or the hello's client field. */
  client?: string;
  /** Label for metrics: 'websocket', 'webrtc', ... */
  transport?: string;
  /** Who opens it: the session belongs to `identity.owner`; a pinned identity names it (its `session` claim). */
  identity?: Identity;
  /** The client's address, for the audit log. */
  remoteAddress?: string;
  /** Results carry each face's driver state (hello `driverState`, protocol 1.1). */
  driverState?: boolean;
}

/** What a transport holds for one open session. Every push returns false after reporting bad input through the sink. */
export interface SessionHandle {
  readonly id: string;
  readonly welcome: Welcome;
  pushPcm(samples: Int16Array | Float32Array, input: PcmInput): boolean;
  pushAu(aus: Float32Array, ptsUs: number): boolean;
  pushVideo(frame: VideoFrameInput): boolean;
  /** Final result, then `end`, then sink.close(1000). */
  end(): Promise<void>;
  /** The transport is gone: no final result; subscribers are told the client vanished. */
  abort(): void;
}

/**
 * Opens sessions for any transport (WebSocket, WebRTC) and keeps the table of live ones. Each session gets the
 * same pipeline, error catalogue, subscriber fan-out and metrics.
 */
export class SessionManager {
  private readonly sessions = new Map<string, StreamSession>();
  /** Session id -> the owner key of the identity that opened it (src/auth). */
  private readonly owners = new Map<string, string>();
  readonly hub: SubscriberHub;
  private accepting = true;
  /** Why new sessions are refused once `accepting` is false: draining (SIGTERM) or shutting down. */
  private refusal: 'EMO_ERR_DRAINING' | 'EMO_ERR_SHUTTING_DOWN' = 'EMO_ERR_SHUTTING_DOWN';  /** The other server processes and nodes (src/cluster), else null. */
  cluster: ClusterBus | null = null;
  readonly reaper: IdleReaper;
  /** Session history (src/storage), else null: told of every session, result and end, never waited for. */
  recorder: SessionRecorder | null = null;

  constructor(
    private readonly config: Readonly<AppConfig>,
    private readonly models: ServerModels,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Alert rules and their listeners; absent, no alert is evaluated. */
    private readonly alerting: Alerting | null = null,
  ) {
    this.hub = new SubscriberHub(config.server.maxSendBufferBytes, metrics);
    this.reaper = new IdleReaper(config.server.idleSessionTimeoutMs, () => this.sessions.values(), (s) => log.info({ sessionId: s.id }, 'idle session ended'));
    this.reaper.start();
  }

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): StreamSession | undefined {
    return this.sessions.get(id);
  }

  /** Joins the cluster: this node's sessions go into its directory, other nodes can find and subscribe to them. */
  joinCluster(bus: ClusterBus): void {
    this.cluster = bus;
    this.hub.attachBus(bus, (id) => this.sessions.get(id)?.isOpen ?? false);
  }

  /** The owner key of a live session on this node (`Identity.owner` of its creator), else null. */
  ownerOf(id: string): string | null {
    return this.sessions.get(id)?.isOpen ? this.owners.get(id) ?? null : null;
  }

  /** The owner of a live session on another node, from the cluster directory (null without a cluster or no such session). */
  async ownerElsewhere(id: string): Promise<string | null> {
    const e = await this.cluster?.locate(id);
    return e && e.node !== this.cluster!.nodeId ? e.owner : null;
  }

  /** The node holding open session `id`, when another one does (null without a cluster or no such session). */
  async openElsewhere(id: string): Promise<string | null> {
    const e = await this.cluster?.locate(id);
    return e && e.node !== this.cluster!.nodeId ? e.node : null;
  }

  /** Internal: the StreamSession behind an id (the WebSocket adapter pushes decoded frames directly). */
  openSession(opts: OpenSessionOptions): StreamSession {
    if (!this.accepting) throw new ProtocolError(this.refusal);
    if (this.sessions.size >= this.config.server.maxSessions) {
      throw new ProtocolError('EMO_ERR_TOO_MANY_SESSIONS', `server is at its limit of ${this.config.server.maxSessions} sessions`);
    }
    // A credential pinned to a session names the session it creates (a backend handed out its subscribe tokens first).
    const id = opts.identity?.session ?? randomUUID();
    if (this.sessions.has(id)) throw new ProtocolError('EMO_ERR_FORBIDDEN', `session ${id} is already live`);
    const s = this.config.streaming;
    const welcome: Welcome = {
      type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: id, models: this.models.registry.summary(),
      windowMs: s.windowMs, hopMs: s.hopMs, labels: EMOTIONS,
      limits: {
        maxFrameBytes: this.config.server.maxFrameBytes, videoAnalysisFps: s.videoAnalysisFps,
        maxRealtimeFactor: this.config.server.maxRealtimeFactor, realtimeBurstMs: this.config.server.realtimeBurstMs,
        maxPtsJumpMs: this.config.server.maxPtsJumpMs, idleSessionTimeoutMs: this.config.server.idleSessionTimeoutMs,
      },
    };
    const log = this.log.child({ sessionId: id });
    const alerts = this.alerting?.evaluator() ?? null;
    const owner = opts.identity?.owner ?? 'anonymous';
    const audit = { audit: true, owner, remote: opts.remoteAddress, transport: opts.transport };
    const session = new StreamSession(id, welcome, {
      sink: opts.sink, hub: this.hub, metrics: this.metrics, log,
      admission: new MediaAdmission(this.config.server, undefined, () => this.metrics.rateLimitedFrames.inc()),
      createPipeline: (events) => new SessionPipeline({
        ...events,
        sessionId: id, windowMs: s.windowMs, hopMs: s.hopMs, maxPendingHops: s.maxPendingHops,
        videoAnalysisFps: s.videoAnalysisFps, maxBufferedChunks: s.maxBufferedAudioChunks,
        minSpeechRatio: this.config.models.speech.minSpeechRatio,
        models: this.models.pipeline, createResampler: createMonoResampler,
        onDrop: (n, reason) => this.metrics.droppedWindows.inc({ reason }, n),
        onVideoSkipped: (n) => this.metrics.videoSkipped.inc(n),
        log: (level, msg, extra) => log[level](extra ?? {}, msg),
        smoothing: s.smoothing,
        facePosterior: this.config.models.video.facePosterior,
        driverState: opts.driverState,
        faceSmoothing: { halfLifeMs: this.config.models.video.faceSmoothingHalfLifeMs, switchMargin: this.config.models.video.faceSmoothingSwitchMargin },
      }),
      onDelivered: (r, delivered) => {
        this.recorder?.result(r);
        // Each alert right after the result that fired it; listeners and webhooks hear only what reached the session.
        for (const a of alerts?.evaluate(r) ?? []) if (delivered.deliverAlert(a)) this.alerting!.publish(a);
      },
      onFinished: (done) => {
        this.sessions.delete(done.id);
        this.recorder?.ended(done.id, done.endReason ?? 'error');
        this.owners.delete(done.id);
        this.cluster?.release(done.id);
        this.metrics.sessionsActive.dec();
        log.info(audit, 'session closed');
      },
    });
    this.sessions.set(id, session);
    this.owners.set(id, owner);
    if (this.cluster) {
      const opened = session;
      // The directory's claim is atomic: of two nodes opening one (pinned) id at once, the second is refused here.
      void this.cluster.claim(id, owner).then((ok) => {
        if (!ok) opened.fail(new ProtocolError('EMO_ERR_SESSION_CONFLICT', `session ${id} is already live on another node`));
      });
    }
    this.recorder?.opened({ id, owner: owner, client: opts.client, transport: opts.transport, welcome });
    this.metrics.sessionsActive.inc();
    this.metrics.sessionsTotal.inc({ transport: opts.transport ?? 'api' });
    log.info({ ...audit, client: opts.client }, 'session opened');
    return session;
  }

  /** The public session API for non-WebSocket transports (docs/architecture.md). */
  open(opts: OpenSessionOptions): SessionHandle {
    const s = this.openSession(opts);
    return {
      id: s.id,
      welcome: s.welcome,
      pushPcm: (samples, input) => s.pushPcm(samples, input),
      pushAu: (aus, ptsUs) => s.pushAu(aus, ptsUs),
      pushVideo: (frame) => s.pushVideo(frame),
      end: () => s.end(),
      abort: () => s.abort('EMO_ERR_SESSION_LOST'),
    };
  }

  /**
   * Draining (SIGTERM, docs/scale-out.md): new sessions are refused with EMO_ERR_DRAINING; resolves once every open
   * session has ended by itself or `timeoutMs` has passed (then `drain` ends the rest).
   */
  async quiesce(timeoutMs: number): Promise<void> {
    if (this.accepting) {
      this.accepting = false;
      this.refusal = 'EMO_ERR_DRAINING';
    }
    const until = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  }

  /** Graceful shutdown: no new sessions; every open one flushes its final result (bounded by graceMs), then closes 1001. */
  async drain(graceMs: number): Promise<void> {
    this.accepting = false;
    this.reaper.stop();
    const all = [...this.sessions.values()];
    const ends = Promise.all(all.map((s) => s.end('shutdown', ERROR_CATALOGUE.EMO_ERR_SHUTTING_DOWN.closeCode)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ends, new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    for (const s of this.sessions.values()) s.abort('EMO_ERR_SHUTTING_DOWN');
  }
}

export type { ServerMessage };
