import type { PeerSessionConfig } from './peer-session.js';

/** Reads the WebRTC ingest's own settings from the environment (the server config schema is not this module's). */
export function peerConfigFromEnv(env: NodeJS.ProcessEnv, analysisFps: number): { peer: Partial<PeerSessionConfig>; maxSessions?: number } {
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw}: expected a non-negative integer`);
    return n;
  };
  const peer: Partial<PeerSessionConfig> = { analysisFps };
  const ice = int('EMOSTREAM_WEBRTC_ICE_TIMEOUT_MS');
  if (ice !== undefined) peer.iceTimeoutMs = ice;
  const media = int('EMOSTREAM_WEBRTC_MEDIA_TIMEOUT_MS');
  if (media !== undefined) peer.mediaTimeoutMs = media;
  const size = env.EMOSTREAM_WEBRTC_VIDEO_SIZE;
  if (size) {
    const m = /^(\d+)x(\d+)$/.exec(size);
    if (!m || Number(m[1]) % 2 || Number(m[2]) % 2) throw new Error(`EMOSTREAM_WEBRTC_VIDEO_SIZE=${size}: expected even WIDTHxHEIGHT, e.g. 640x480`);
    peer.videoWidth = Number(m[1]);
    peer.videoHeight = Number(m[2]);
  }
  if (env.EMOSTREAM_WEBRTC_ICE_HOSTS !== undefined) peer.iceAdditionalHostAddresses = env.EMOSTREAM_WEBRTC_ICE_HOSTS.split(',').map((s) => s.trim()).filter(Boolean);
  const range = env.EMOSTREAM_WEBRTC_PORT_RANGE;
  if (range) {
    const m = /^(\d+)-(\d+)$/.exec(range);
    if (!m || Number(m[1]) >= Number(m[2])) throw new Error(`EMOSTREAM_WEBRTC_PORT_RANGE=${range}: expected MIN-MAX`);
    peer.icePortRange = [Number(m[1]), Number(m[2])];
  }
  return { peer, maxSessions: int('EMOSTREAM_WEBRTC_MAX_SESSIONS') };
}
