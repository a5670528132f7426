import type { ErrorCode } from '../protocol/v1/errors.js';

/** Every scope a credential may carry (docs/security.md): what each allows is checked where the action happens. */
export const SCOPES = ['publish', 'subscribe', 'admin', 'history:read', 'history:delete'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: unknown): s is Scope {
  return typeof s === 'string' && (SCOPES as readonly string[]).includes(s);
}

/** Session ids a `session` claim may name: the server's UUIDs and a backend's own names. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Per-credential limits (API keys carry their own; 0 = no limit beyond the server's). */
export interface IdentityLimits {
  maxSessions: number;
  maxSubscriptions: number;
}

/**
 * Who is calling, once authenticated. A plain JSON-serialisable object so it can cross event loops (shard bus).
 * With `server.auth.mode: none` every caller is the same anonymous identity holding every scope.
 */
export interface Identity {
  /** How it was authenticated. */
  kind: 'none' | 'jwt' | 'api-key';
  /** JWT `sub`, the API key's id, or 'anonymous'. */
  subject: string;
  /** The key sessions are owned by: 'anonymous', 'jwt:<sub>' or 'key:<id>'. */
  owner: string;
  scopes: readonly Scope[];
  /** The one session this credential is pinned to (`session` claim / key field), else null. */
  session: string | null;
  limits: IdentityLimits;
  /** When the credential stops being valid (ms since the epoch), null for none / keys without expiry. */
  expiresAtMs: number | null;
}

/** Why a request is refused: an HTTP status, a catalogue code and a sentence for the client (never a token value). */
export interface AuthRefusal {
  status: 400 | 401 | 403 | 429;
  code: ErrorCode;
  message: string;
  /** Seconds to wait (429). */
  retryAfterS?: number;
}

export type AuthOutcome = { ok: true; identity: Identity } | { ok: false; refusal: AuthRefusal };

/** The parts of a request (HTTP or WebSocket upgrade, either transport) that authentication reads. */
export interface AuthRequest {
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  query: URLSearchParams;
  /** The peer's address, for the failed-attempt limiter and the audit log ('' when unknown). */
  remoteAddress?: string;
}

export function refusal(status: AuthRefusal['status'], code: ErrorCode, message: string, retryAfterS?: number): AuthRefusal {
  return retryAfterS === undefined ? { status, code, message } : { status, code, message, retryAfterS };
}
