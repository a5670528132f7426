import { ProtocolError } from '../protocol/v1/errors.js';

/** Codecs the ingest can decode, as they appear in a=rtpmap (encoding name, case-insensitive). */
export const SUPPORTED_AUDIO_CODECS = ['opus'] as const;
export const SUPPORTED_VIDEO_CODECS = ['VP8', 'H264'] as const;
export const DEFAULT_MAX_OFFER_BYTES = 64 * 1024;

export interface MediaSectionSummary {
  kind: 'audio' | 'video' | 'application';
  /** Encoding names offered in this section (from a=rtpmap), upper-cased. */
  codecs: string[];
  /** The supported codecs among them, in the offer's preference order. */
  usable: string[];
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

export interface OfferSummary {
  sections: MediaSectionSummary[];
  audio: boolean;
  video: boolean;
  dataChannel: boolean;
}

const LINE = /^[a-z]=/;
const MEDIA_LINE = /^m=(\S+) (\d+)(?:\/\d+)? (\S+)((?: \S+)*)$/;

/**
 * Checks a WHIP offer before werift sees it: werift accepts some garbage and throws opaque errors on other garbage,
 * and a client deserves to know which line is wrong. Cheap (one pass over the lines); throws ProtocolError.
 */
export function validateOffer(sdp: string, maxBytes = DEFAULT_MAX_OFFER_BYTES): OfferSummary {
  if (Buffer.byteLength(sdp) > maxBytes) throw new ProtocolError('EMO_ERR_WHIP_TOO_LARGE', `SDP offer of ${Buffer.byteLength(sdp)} bytes exceeds ${maxBytes}`);
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', 'SDP must start with "v=0"');
  const sections: MediaSectionSummary[] = [];
  let current: (MediaSectionSummary & { hasIce: boolean; hasFingerprint: boolean }) | null = null;
  let sessionIce = false;
  let sessionFingerprint = false;
  let hasOrigin = false;
  const all: (MediaSectionSummary & { hasIce: boolean; hasFingerprint: boolean })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!LINE.test(line)) throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', `SDP line ${i + 1} is not "<letter>=<value>": ${JSON.stringify(line.slice(0, 60))}`);
    if (line.startsWith('o=')) hasOrigin = true;
    if (line.startsWith('m=')) {
      const m = MEDIA_LINE.exec(line);
      if (!m) throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', `SDP line ${i + 1} is not a valid media line: ${JSON.stringify(line.slice(0, 80))}`);
      const kind = m[1];
      if (kind !== 'audio' && kind !== 'video' && kind !== 'application') {
        throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', `SDP line ${i + 1}: unsupported media type "${kind}"`);
      }
      current = { kind, codecs: [], usable: [], direction: 'sendrecv', hasIce: false, hasFingerprint: false };
      all.push(current);
      continue;
    }
    const isIce = line.startsWith('a=ice-ufrag:') || line.startsWith('a=ice-pwd:');
    const isFingerprint = line.startsWith('a=fingerprint:');
    if (!current) {
      sessionIce ||= isIce;
      sessionFingerprint ||= isFingerprint;
      continue;
    }
    current.hasIce ||= isIce;
    current.hasFingerprint ||= isFingerprint;
    if (line.startsWith('a=rtpmap:')) {
      const enc = /^a=rtpmap:\d+ ([^/\s]+)\//.exec(line);
      if (!enc) throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', `SDP line ${i + 1} is not a valid rtpmap: ${JSON.stringify(line.slice(0, 80))}`);
      current.codecs.push(enc[1].toUpperCase());
    } else if (line === 'a=sendrecv' || line === 'a=sendonly' || line === 'a=recvonly' || line === 'a=inactive') {
      current.direction = line.slice(2) as MediaSectionSummary['direction'];
    }
  }
  if (!hasOrigin) throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', 'SDP has no o= (origin) line');
  if (all.length === 0) throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', 'SDP offer has no media section (m= line)');
  for (const s of all) {
    if (!s.hasIce && !sessionIce) throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', `the ${s.kind} section has no a=ice-ufrag/a=ice-pwd`);
    if (!s.hasFingerprint && !sessionFingerprint) throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', `the ${s.kind} section has no a=fingerprint (DTLS is required)`);
    const supported: readonly string[] = s.kind === 'audio' ? SUPPORTED_AUDIO_CODECS.map((c) => c.toUpperCase()) : s.kind === 'video' ? SUPPORTED_VIDEO_CODECS : [];
    s.usable = s.codecs.filter((c, idx) => supported.includes(c) && s.codecs.indexOf(c) === idx);
    sections.push({ kind: s.kind, codecs: s.codecs, usable: s.usable, direction: s.direction });
  }
  const sends = (s: MediaSectionSummary): boolean => s.direction === 'sendonly' || s.direction === 'sendrecv';
  const audio = sections.some((s) => s.kind === 'audio' && s.usable.length > 0 && sends(s));
  const video = sections.some((s) => s.kind === 'video' && s.usable.length > 0 && sends(s));
  if (!audio && !video) {
    const offered = sections.filter((s) => s.kind !== 'application').map((s) => `${s.kind}: ${s.codecs.join(', ') || 'none'}${sends(s) ? '' : ` (${s.direction})`}`).join('; ');
    throw new ProtocolError('EMO_ERR_WHIP_NO_CODEC', `no sendable supported codec in the offer (${offered || 'no audio or video section'}); supported: audio opus, video VP8 or H264`);
  }
  return { sections, audio, video, dataChannel: sections.some((s) => s.kind === 'application') };
}
