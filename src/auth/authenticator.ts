import type { Logger } from 'pino';
import { ApiKeyStore } from './api-keys.js';
import type { AuthConfig } from './config.js';
import { extractCredential, normalizeAddress } from './credentials.js';
import { FailureLimiter } from './failure-limiter.js';
import { JwtVerifier } from './jwt.js';
import { refusal, SCOPES, type AuthOutcome, type AuthRefusal, type AuthRequest, type Identity } from './types.js';

/** The identity of every caller with `server.auth.mode: none`: it may do everything (docs/security.md). */
export const ANONYMOUS: Identity = Object.freeze({
  kind: 'none', subject: 'anonymous', owner: 'anonymous', scopes: Object.freeze([...SCOPES]), session: null,
  limits: Object.freeze({ maxSessions: 0, maxSubscriptions: 0 }), expiresAtMs: null,
}) as Identity;

/**
 * Authenticates a request (HTTP or WebSocket upgrade): credential from the Bearer header or access_token, verified
 * as a JWT or looked up as an API key, failed attempts counted per remote address (429 past the limit). Every
 * failure goes to the audit log with the address and the reason, never the credential.
 */
export class Authenticator {
  readonly mode: AuthConfig['mode'];
  private readonly jwt: JwtVerifier | null;
  private readonly keys: ApiKeyStore | null;
  readonly failures: FailureLimiter;

  constructor(cfg: AuthConfig, private readonly audit: Logger) {
    this.mode = cfg.mode;
    this.jwt = cfg.mode === 'jwt' ? new JwtVerifier(cfg.jwt) : null;
    this.keys = cfg.mode === 'api-key' ? ApiKeyStore.fromFile(cfg.apiKeysFile!) : null;
    this.failures = new FailureLimiter(cfg.maxFailuresPerMinute);
  }

  get enabled(): boolean {
    return this.mode !== 'none';
  }

  async authenticate(req: AuthRequest): Promise<AuthOutcome> {
    if (this.mode === 'none') return { ok: true, identity: ANONYMOUS };
    const addr = normalizeAddress(req.remoteAddress ?? '');
    const waitS = this.failures.blockedForS(addr);
    if (waitS > 0) return { ok: false, refusal: refusal(429, 'EMO_ERR_RATE_LIMITED', `too many failed authentications from this address; retry in ${waitS} s`, waitS) };
    const cred = extractCredential(req);
    let out: AuthOutcome;
    if ('refusal' in cred) out = { ok: false, refusal: cred.refusal };
    else if (cred.token === null) out = { ok: false, refusal: refusal(401, 'EMO_ERR_UNAUTHORIZED', 'credentials required: Authorization: Bearer <token> or ?access_token=') };
    else out = this.jwt ? await this.jwt.verify(cred.token) : this.keys!.verify(cred.token);
    if (!out.ok) this.failed(addr, out.refusal);
    return out;
  }

  /** Records a refusal that the caller decided after authentication (wrong scope or session) in the audit log. */
  forbidden(req: AuthRequest, identity: Identity, why: AuthRefusal, action: string): void {
    this.audit.warn({ event: 'auth-forbidden', remote: normalizeAddress(req.remoteAddress ?? ''), subject: identity.owner, action, code: why.code, reason: why.message }, 'request forbidden');
  }

  private failed(addr: string, why: AuthRefusal): void {
    const reachedLimit = this.failures.fail(addr);
    this.audit.warn({ event: 'auth-failed', remote: addr, code: why.code, reason: why.message }, 'authentication failed');
    if (reachedLimit) this.audit.warn({ event: 'auth-blocked', remote: addr }, 'failed-authentication limit reached: address refused for the rest of the minute');
  }
}

export function createAuthenticator(cfg: AuthConfig, log: Logger): Authenticator {
  return new Authenticator(cfg, log.child({ audit: true }));
}
