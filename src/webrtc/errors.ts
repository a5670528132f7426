/**
 * Errors of the WHIP signalling endpoint. They are HTTP answers (RFC 9725 runs over plain HTTP), so each code carries
 * its status; the body is the same `{type: 'error', code, message}` shape the WebSocket path sends.
 */
export const WHIP_ERRORS = {
  EMO_ERR_WHIP_CONTENT_TYPE: { status: 415, text: 'WHIP offers must be sent with Content-Type: application/sdp' },
  EMO_ERR_WHIP_TOO_LARGE: { status: 413, text: 'SDP offer exceeds the size limit' },
  EMO_ERR_WHIP_BAD_SDP: { status: 400, text: 'SDP offer is malformed' },
  EMO_ERR_WHIP_NO_CODEC: { status: 422, text: 'the offer has no supported codec (audio: opus; video: VP8 or H264)' },
  EMO_ERR_WHIP_UNKNOWN_SESSION: { status: 404, text: 'no such WHIP session' },
  EMO_ERR_WHIP_METHOD: { status: 405, text: 'method not allowed on this WHIP resource' },
  EMO_ERR_WHIP_UNAUTHORIZED: { status: 401, text: 'missing or invalid bearer token' },
  EMO_ERR_WHIP_TOO_MANY_SESSIONS: { status: 503, text: 'WebRTC session limit reached (or the server is shutting down)' },
  EMO_ERR_WHIP_INTERNAL: { status: 500, text: 'internal error while negotiating the session' },
} as const;

export type WhipErrorCode = keyof typeof WHIP_ERRORS;

export class WhipError extends Error {
  readonly code: WhipErrorCode;
  constructor(code: WhipErrorCode, message?: string) {
    super(message ?? WHIP_ERRORS[code].text);
    this.code = code;
    this.name = 'WhipError';
  }
  get status(): number {
    return WHIP_ERRORS[this.code].status;
  }
  toJSON(): { type: 'error'; code: WhipErrorCode; message: string } {
    return { type: 'error', code: this.code, message: this.message };
  }
}

/** Why a WebRTC session ended; sent in the `end` message and the DataChannel before it closes. */
export type PeerEndReason = 'client-end' | 'whip-delete' | 'ice-timeout' | 'ice-failed' | 'media-timeout' | 'shutdown' | 'error';
