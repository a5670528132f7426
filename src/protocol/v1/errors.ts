/**
 * The one catalogue of error codes. Every error the server sends is `{type: 'error', code, message}` with a code from
 * here; `close` says whether the session cannot go on (the socket is then closed with `closeCode`).
 * Codes are stable: clients may switch on them. Close codes 4000-4999 are application codes (RFC 6455 7.4.2).
 */
export const ERROR_CATALOGUE = {
  EMO_ERR_BAD_HELLO: { closeCode: 4000, close: true, text: 'the first message must be a valid hello' },
  EMO_ERR_PROTOCOL_VERSION: { closeCode: 4001, close: true, text: 'unsupported protocol major version' },
  EMO_ERR_BINARY_BEFORE_HELLO: { closeCode: 4002, close: true, text: 'binary frame received before hello' },
  EMO_ERR_BAD_MESSAGE: { closeCode: 4003, close: false, text: 'control message is not valid JSON or fails the schema' },
  EMO_ERR_FRAME_TRUNCATED: { closeCode: 4004, close: false, text: 'binary frame shorter than its header or declared payload' },
  EMO_ERR_FRAME_TOO_LARGE: { closeCode: 4005, close: false, text: 'binary frame exceeds the size limit' },
  EMO_ERR_UNKNOWN_KIND: { closeCode: 4006, close: false, text: 'unknown binary frame kind' },
  EMO_ERR_FRAME_VERSION: { closeCode: 4007, close: false, text: 'unsupported binary frame header version' },
  EMO_ERR_SAMPLE_RATE: { closeCode: 4010, close: false, text: 'sample rate or channel count out of range' },
  EMO_ERR_TIMESTAMP_BACKWARDS: { closeCode: 4011, close: false, text: 'presentation timestamp went backwards' },
  EMO_ERR_NON_FINITE: { closeCode: 4012, close: false, text: 'NaN or infinite sample or AU value' },
  EMO_ERR_AU_LENGTH: { closeCode: 4013, close: false, text: 'AU vector has the wrong length' },
  EMO_ERR_VIDEO_DIMENSIONS: { closeCode: 4014, close: false, text: 'video frame dimensions invalid or not matching the payload' },
  EMO_ERR_VIDEO_UNAVAILABLE: { closeCode: 4015, close: false, text: 'video analysis unavailable' },
  EMO_ERR_STREAM_CHANGED: { closeCode: 4016, close: false, text: 'audio format changed mid-stream' },
  // Per-frame failures reported by the video analyzer (src/face); the session goes on with the next frame.
  EMO_ERR_VIDEO_DECODE: { closeCode: 4017, close: false, text: 'video frame could not be decoded' },
  EMO_ERR_VIDEO_SIZE: { closeCode: 4018, close: false, text: 'video frame size not supported by the analyzer' },
  EMO_ERR_VIDEO_TOO_LARGE: { closeCode: 4019, close: false, text: 'video frame too large for the analyzer' },
  EMO_ERR_VIDEO_FORMAT: { closeCode: 4026, close: false, text: 'video format not supported by the analyzer' },
  EMO_ERR_VIDEO_BUSY: { closeCode: 4027, close: false, text: 'video analyzer busy; frame skipped' },
  EMO_ERR_VIDEO_INTERNAL: { closeCode: 4028, close: false, text: 'video analyzer failed on this frame' },
  EMO_ERR_UNKNOWN_SESSION: { closeCode: 4020, close: true, text: 'no such session' },
  EMO_ERR_SLOW_CONSUMER: { closeCode: 4021, close: true, text: 'consumer too slow: send buffer limit exceeded' },
  EMO_ERR_SESSION_LOST: { closeCode: 4022, close: true, text: 'the streaming client disconnected without end' },
  EMO_ERR_TOO_MANY_SESSIONS: { closeCode: 4023, close: true, text: 'server session limit reached' },
  EMO_ERR_ENDED: { closeCode: 4024, close: false, text: 'session already ended' },
  EMO_ERR_BAD_SUBPROTOCOL: { closeCode: 4025, close: true, text: 'WebSocket subprotocol must be emo.v1' },
  // Access control (docs/security.md). HTTP answers use the status in brackets; WebSocket upgrades are refused with it.
  EMO_ERR_UNAUTHORIZED: { closeCode: 4030, close: true, text: 'missing or invalid credentials [401]' },
  EMO_ERR_TOKEN_EXPIRED: { closeCode: 4031, close: true, text: 'token expired [401]' },
  EMO_ERR_FORBIDDEN: { closeCode: 4032, close: true, text: 'credentials do not allow this action or session [403]' },
  EMO_ERR_RATE_LIMITED: { closeCode: 4033, close: false, text: 'rate limit exceeded [429]' },
  // Session hygiene: a client may not hold resources without streaming, nor move the clock or values out of range.
  EMO_ERR_IDLE: { closeCode: 4034, close: true, text: 'no media for too long: session ended' },
  EMO_ERR_TIMESTAMP_JUMP: { closeCode: 4035, close: false, text: 'presentation timestamp jumped too far ahead; frame refused' },
  EMO_ERR_OUT_OF_RANGE: { closeCode: 4036, close: false, text: 'sample or AU value outside its documented range' },
  // Scale-out (docs/scale-out.md): node lifecycle and the cluster's session directory.
  EMO_ERR_DRAINING: { closeCode: 4040, close: true, text: 'this node is draining: no new sessions here; connect again (the load balancer picks another node)' },
  EMO_ERR_SESSION_CONFLICT: { closeCode: 4041, close: true, text: 'the session id is already live on another node' },
  EMO_ERR_SHUTTING_DOWN: { closeCode: 1001, close: true, text: 'server shutting down' },
  EMO_ERR_INTERNAL: { closeCode: 1011, close: true, text: 'internal server error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** A protocol-level failure carrying its catalogue code and a human sentence for the client. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERROR_CATALOGUE[code].text);
    this.code = code;
    this.name = 'ProtocolError';
  }
  get closeCode(): number {
    return ERROR_CATALOGUE[this.code].closeCode;
  }
  get fatal(): boolean {
    return ERROR_CATALOGUE[this.code].close;
  }
}

/** Normal closure after `end` (RFC 6455). */
export const CLOSE_NORMAL = 1000;
