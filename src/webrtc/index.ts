import { Counter, Gauge } from 'prom-client';
import type { ServerPluginApi } from '../server/app.js';
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
  const ended = new Counter({ name: 'emostream_webrtc_sessions_ended_total', help: 'WebRTC sessions ended, by reason', labelNames: ['reason'], registers: [api.metrics] });
  const lost = new Counter({ name: 'emostream_webrtc_audio_packets_lost_total', help: 'Opus packets never received (declared lost by the jitter buffer)', registers: [api.metrics] });
  const missing = new Counter({ name: 'emostream_webrtc_audio_missing_ms_total', help: 'Audio missing from WebRTC sessions, filled with silence (ms)', registers: [api.metrics] });
  const whip = new WhipEndpoint({
    sessions: api.sessions,
    log,
    peer,
    maxSessions: maxSessions ?? api.config.server.maxSessions,
    onEnded: (stats, reason) => {
      ended.inc({ reason });
      if (stats.audio) {
        lost.inc(stats.audio.lost);
        missing.inc(stats.audio.missingAudioMs);
      }
    },
  });
  new Gauge({ name: 'emostream_webrtc_sessions', help: 'Open WebRTC sessions', registers: [api.metrics], collect() { this.set(whip.size); } });

  const wreq = (req: HttpRequest) => ({ method: req.method, path: req.path, params: req.params, headers: req.headers, body: req.body });
  // Bodies over the limit are cut off by the transport, which answers with the route's own WHIP error.
  const limit = { bodyLimitBytes: DEFAULT_MAX_OFFER_BYTES, tooLarge: () => whip.tooLarge(DEFAULT_MAX_OFFER_BYTES) };
  api.routes.add('OPTIONS', WHIP_PATH, () => whip.options());
  api.routes.add('OPTIONS', `${WHIP_PATH}/:id`, () => whip.options());
  api.routes.add('POST', WHIP_PATH, (req) => whip.post(wreq(req)), limit);
  api.routes.add('DELETE', `${WHIP_PATH}/:id`, async (req) => {
    const r = wreq(req);
    if (!api.shards || whip.has(r.params.id ?? '')) return whip.delete(r);
    // With several event loops the DELETE may reach another loop than the one holding the peer: ask them.
    const answers = await api.shards.ask<WhipResponse>('whip-delete', { ...r, body: Buffer.alloc(0) }, 1000);
    return answers[0] ?? whip.delete(r);
  });
  api.shards?.answer('whip-delete', (body) => {
    const r = body as WhipRequest;
    return whip.has(r.params.id ?? '') ? whip.delete({ ...r, body: Buffer.alloc(0) }) : null;
  });
  api.routes.add('*', WHIP_PATH, (req) => whip.notAllowed(wreq(req)), limit);
  api.routes.add('*', `${WHIP_PATH}/:id`, (req) => whip.notAllowed(wreq(req)), limit);
  api.onClose(() => whip.shutdown());
  log.info({ path: WHIP_PATH, maxSessions: maxSessions ?? api.config.server.maxSessions }, 'WHIP ingest ready');
}
