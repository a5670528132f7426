import type { AppConfig } from '../server/config.js';
import type { PeerSessionConfig } from './peer-session.js';

/** The WebRTC ingest's peer settings from the server's validated config (its `webrtc` section, docs/configuration.md). */
export function peerConfigFromConfig(config: Pick<AppConfig, 'webrtc' | 'streaming' | 'server'>): { peer: Partial<PeerSessionConfig>; maxSessions: number } {
  const w = config.webrtc;
  const [videoWidth, videoHeight] = w.videoSize.split('x').map(Number);
  const peer: Partial<PeerSessionConfig> = {
    analysisFps: config.streaming.videoAnalysisFps,
    iceTimeoutMs: w.iceTimeoutMs,
    mediaTimeoutMs: w.mediaTimeoutMs,
    videoWidth,
    videoHeight,
    iceAdditionalHostAddresses: [...w.iceHosts],
  };
  if (w.portRange) {
    const [lo, hi] = w.portRange.split('-').map(Number);
    peer.icePortRange = [lo, hi];
  }
  return { peer, maxSessions: w.maxSessions ?? config.server.maxSessions };
}
