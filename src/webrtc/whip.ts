import { ProtocolError } from '../protocol/v1/errors.js';
import type { IngestSessions, Logger } from './host.js';
import { DEFAULT_PEER_CONFIG, PeerSession, type PeerSessionConfig, type PeerSessionStats } from './peer-session.js';
import { DEFAULT_MAX_OFFER_BYTES, validateOffer } from './sdp-offer.js';

/** The request/response shapes of src/server/routes.ts (transport-neutral: uWS and node:http alike). */
export interface WhipRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: Buffer;
}
export interface WhipResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface WhipEndpointOptions {
  sessions: IngestSessions;
  log: Logger;
  peer?: Partial<PeerSessionConfig>;
  maxSessions: number;
  maxOfferBytes?: number;
  /** Path prefix of the session resources (Location: <base>/<id>). */
  basePath?: string;
  allowOrigin?: string;
  /** Called once per ended session with its final counters. */
  onEnded?: (stats: PeerSessionStats, reason: string) => void;
}

export const WHIP_PATH = '/v1/whip';

/**
 * WHIP (RFC 9725) on the server's HTTP port: POST an SDP offer -> 201 + SDP answer + Location of the session
 * resource; DELETE the resource -> the session ends (final result first); OPTIONS for CORS preflight. Trickle ICE
 * (PATCH) is not supported: the answer carries every candidate, and PATCH gets 405 as the RFC prescribes.
 */
export class WhipEndpoint {
  private readonly peers = new Map<string, PeerSession>();
  private readonly cfg: PeerSessionConfig;
  private readonly basePath: string;
  private negotiating = 0;
  private ended: Record<string, number> = {};

  constructor(private readonly opts: WhipEndpointOptions) {
    this.cfg = { ...DEFAULT_PEER_CONFIG, ...(opts.peer ?? {}) };
    this.basePath = opts.basePath ?? WHIP_PATH;
  }

  get size(): number {
    return this.peers.size;
  }

  /** Whether this endpoint (event loop) holds the WHIP session `id`. */
  has(id: string): boolean {
    return this.peers.has(id);
  }

  /** Sessions ended so far, by reason. */
  get endedByReason(): Readonly<Record<string, number>> {
    return this.ended;
  }

  session(id: string): PeerSession | undefined {
    return this.peers.get(id);
  }

  stats(): PeerSessionStats[] {
    return [...this.peers.values()].map((p) => p.stats());
  }

  private cors(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'access-control-allow-origin': this.opts.allowOrigin ?? '*',
      'access-control-expose-headers': 'location, link, etag, x-emostream-session',
      ...extra,
    };
  }

  /** The answer to an offer body over the limit (the transports stop reading it at `maxBytes`). */
  tooLarge(maxBytes: number): WhipResponse {
    return this.error(new ProtocolError('EMO_ERR_WHIP_TOO_LARGE', `request body over ${maxBytes} bytes; SDP offers may be at most ${maxBytes} bytes`));
  }

  private error(err: ProtocolError, extra: Record<string, string> = {}): WhipResponse {
    return { status: err.httpStatus, headers: this.cors({ 'content-type': 'application/json', ...extra }), body: JSON.stringify(err.toJSON()) };
  }

  options(): WhipResponse {
    return {
      status: 204,
      headers: this.cors({
        'access-control-allow-methods': 'POST, DELETE, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization',
        'access-control-max-age': '600',
        'accept-post': 'application/sdp',
      }),
    };
  }

  /** `sessions` replaces the endpoint's for this offer (access control names the session and its owner). */
  async post(req: WhipRequest, sessions: IngestSessions = this.opts.sessions): Promise<WhipResponse> {
    try {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/sdp') throw new ProtocolError('EMO_ERR_WHIP_CONTENT_TYPE', `Content-Type must be application/sdp, got ${JSON.stringify(type || '(none)')}`);
      const summary = validateOffer(req.body.toString('utf8'), this.opts.maxOfferBytes ?? DEFAULT_MAX_OFFER_BYTES);
      if (this.peers.size + this.negotiating >= this.opts.maxSessions) {
        throw new ProtocolError('EMO_ERR_WHIP_TOO_MANY_SESSIONS', `${this.opts.maxSessions} WebRTC sessions are open`);
      }
      this.negotiating++;
      let created: Awaited<ReturnType<typeof PeerSession.create>>;
      try {
        created = await PeerSession.create(req.body.toString('utf8'), sessions, this.cfg, this.opts.log, (s, reason) => this.onEnded(s, reason));
      } finally {
        this.negotiating--;
      }
      const { session, answerSdp } = created;
      this.peers.set(session.id, session);
      this.opts.log.info({ session: session.id, audio: summary.audio, video: summary.video, dataChannel: summary.dataChannel }, 'webrtc session negotiated');
      return {
        status: 201,
        headers: this.cors({
          'content-type': 'application/sdp',
          location: `${this.basePath}/${session.id}`,
          'x-emostream-session': session.id,
        }),
        body: answerSdp,
      };
    } catch (err) {
      if (err instanceof ProtocolError) return this.error(err);
      this.opts.log.error({ err: (err as Error).message }, 'whip offer failed');
      return this.error(new ProtocolError('EMO_ERR_WHIP_INTERNAL'));
    }
  }

  async delete(req: WhipRequest): Promise<WhipResponse> {
    try {
      const id = req.params.id ?? '';
      const peer = this.peers.get(id);
      if (!peer) throw new ProtocolError('EMO_ERR_WHIP_UNKNOWN_SESSION', `no WHIP session ${JSON.stringify(id.slice(0, 80))}`);
      // Answer at once; the session flushes its media and sends its final result on the DataChannel meanwhile.
      // The resource is gone from now on: a second DELETE is a 404.
      this.peers.delete(id);
      void peer.finish('whip-delete');
      return { status: 200, headers: this.cors() };
    } catch (err) {
      if (err instanceof ProtocolError) return this.error(err);
      return this.error(new ProtocolError('EMO_ERR_WHIP_INTERNAL'));
    }
  }

  /** Any other method on a session resource (PATCH for trickle ICE included): 405 with Allow. */
  notAllowed(req: WhipRequest): WhipResponse {
    const onResource = Boolean(req.params.id);
    const allow = onResource ? 'DELETE, OPTIONS' : 'POST, OPTIONS';
    return this.error(new ProtocolError('EMO_ERR_WHIP_METHOD', `${req.method} is not allowed here (${allow}); trickle ICE is not supported, the answer carries all candidates`), { allow });
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.peers.values()].map((p) => p.finish('shutdown')));
  }

  private onEnded(s: PeerSession, reason: string): void {
    if (this.peers.get(s.id) === s) this.peers.delete(s.id);
    this.opts.onEnded?.(s.stats(), reason);
    this.ended[reason] = (this.ended[reason] ?? 0) + 1;
  }
}
