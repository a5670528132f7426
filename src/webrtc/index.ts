import { Counter, Gauge } from 'prom-client';
import type { ServerPluginApi } from '../server/app.js';
import { grantPublish } from '../auth/index.js';
import type { HttpRequest } from '../server/routes.js';
import { peerConfigFromEnv } from './config.js';
import { DEFAULT_MAX_OFFER_BYTES } from './sdp-offer.js';
import { WHIP_PATH, WhipEndpoint, type WhipRequest, type WhipResponse } from './whip.js';

export { WhipEndpoint, WHIP_PATH } from './whip.js';
export { WhipClient } from './whip-client.js';

/**
 * Server plugin (config `plugins`, docs/architecture.md): WHIP signalling on the server's HTTP port and one werift
 * peer per session, feeding the same session pipeline as WebSocket clients. docs/webrtc.md describes it.
 */
export async function register(api: ServerPluginApi): Promise<void> {
  const { peer, maxSessions } = peerConfigFromEnv(process.env, api.config.streaming.videoAnalysisFps);
  const log = api.logger.child({ module: 'webrtc' });
  /** Session slots held by live WHIP sessions (per-identity limits), given back when they end. */
  const slots = new Map<string, () => void>();
  const ended = new Counter({ name: 'emostream_webrtc_sessions_ended_total', help: 'WebRTC sessions ended, by reason', labelNames: ['reason'], registers: [api.metrics] });
  const lost = new Counter({ name: 'emostream_webrtc_audio_packets_lost_total', help: 'Opus packets never received (declared lost by the jitter buffer)', registers: [api.metrics] });
  const missing = new Counter({ name: 'emostream_webrtc_audio_missing_ms_total', help: 'Audio missing from WebRTC sessions, filled with silence (ms)', registers: [api.metrics] });
  const whip = new WhipEndpoint({
    sessions: api.sessions,
    log,
    peer,
    maxSessions: maxSessions ?? api.config.server.maxSessions,
    onEnded: (stats, reason) => {
      slots.get(stats.id)?.();
      slots.delete(stats.id);
      ended.inc({ reason });
      if (stats.audio) {
        lost.inc(stats.audio.lost);
        missing.inc(stats.audio.missingAudioMs);
      }
    },
  });
  new Gauge({ name: 'emostream_webrtc_sessions', help: 'Open WebRTC sessions', registers: [api.metrics], collect() { this.set(whip.size); } });

  const wreq = (req: HttpRequest) => ({ method: req.method, path: req.path, params: req.params, headers: req.headers, body: req.body });
  // A longer body is cut off by the transport, which answers with this route's own EMO_ERR_WHIP_TOO_LARGE.
  const limit = { bodyLimitBytes: DEFAULT_MAX_OFFER_BYTES, tooLarge: (limitBytes: number) => whip.tooLarge(limitBytes) };
  api.routes.add('OPTIONS', WHIP_PATH, () => whip.options());
  api.routes.add('OPTIONS', `${WHIP_PATH}/:id`, () => whip.options());
  const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'location, link, etag, x-emostream-session' };
  api.routes.add('POST', WHIP_PATH, async (req) => {
    const g = await grantPublish(api.auth, req, api.sessions);
    if (!g.ok) return api.auth.respond(g.refusal, cors);
    // The session is named by a pinned credential and belongs to its identity, as on the WebSocket path.
    const sessions = { open: (o: Parameters<typeof api.sessions.open>[0]) => api.sessions.open({ ...o, identity: g.identity, remoteAddress: req.remoteAddress }) };
    const res = await whip.post(wreq(req), sessions);
    const id = res.headers?.['x-emostream-session'];
    if (res.status === 201 && id && whip.has(id)) slots.set(id, g.release);
    else g.release();
    return res;
  }, limit);
  /**
   * Ending a session: its owner, a credential pinned to it, or admin (docs/security.md). Checked before the session
   * is looked up, so an unknown id answers 403 like another identity's (ids cannot be probed).
   */
  api.routes.add('DELETE', `${WHIP_PATH}/:id`, async (req) => {
    const r = wreq(req);
    const id = r.params.id ?? '';
    const who = await api.auth.authorize(req, 'publish', { id, owner: api.sessions.ownerOf(id) ?? await api.sessions.ownerElsewhere(id) });
    if (!who.ok) return api.auth.respond(who.refusal, cors);
    if (!api.cluster || whip.has(id)) return whip.delete(r);
    // In a cluster the DELETE may reach another node than the one holding the peer: the directory says which.
    const node = await api.sessions.openElsewhere(id);
    const answers = node ? await api.cluster.ask<WhipResponse>([node], 'whip-delete', { ...r, body: '' }, 2000) : [];
    return answers[0] ?? whip.delete(r);
  });
  api.cluster?.answer('whip-delete', (body) => {
    const r = body as WhipRequest;
    return whip.has(r.params.id ?? '') ? whip.delete({ ...r, body: Buffer.alloc(0) }) : null;
  });
  api.routes.add('*', WHIP_PATH, (req) => whip.notAllowed(wreq(req)), limit);
  api.routes.add('*', `${WHIP_PATH}/:id`, (req) => whip.notAllowed(wreq(req)), limit);
  api.onClose(() => whip.shutdown());
  log.info({ path: WHIP_PATH, maxSessions: maxSessions ?? api.config.server.maxSessions }, 'WHIP ingest ready');
}
