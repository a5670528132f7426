import type { Logger } from 'pino';
import { createAuthenticator, type Authenticator } from './authenticator.js';
import { checkSessionAccess, requireScope } from './authorize.js';
import type { AuthConfig, LimitsConfig } from './config.js';
import { refusalResponse } from './http.js';
import { ConnectionLimits } from './limits.js';
import { OriginPolicy } from './origin.js';
import type { AuthOutcome, AuthRefusal, AuthRequest, Identity, Scope } from './types.js';

export interface ServerAuthConfig {
  auth: AuthConfig;
  limits: LimitsConfig;
  allowedOrigins: readonly string[];
}

/**
 * What the server and its plugins use for access control (`api.auth`): authenticate a request, check a scope and a
 * session's owner, answer a refusal, count connections, apply the Origin policy. One per event loop.
 */
export class ServerAuth {
  readonly authenticator: Authenticator;
  readonly origins: OriginPolicy;
  readonly limits: ConnectionLimits;

  constructor(cfg: ServerAuthConfig, readonly log: Logger) {
    this.authenticator = createAuthenticator(cfg.auth, log);
    this.origins = new OriginPolicy(cfg.allowedOrigins, cfg.auth.mode !== 'none');
    this.limits = new ConnectionLimits(cfg.limits);
  }

  /** false with `server.auth.mode: none` (every request is the anonymous identity). */
  get enabled(): boolean {
    return this.authenticator.enabled;
  }

  /** Who sent the request (HttpRequest from a route, an upgrade request, or authRequestFromNode()). */
  authenticate(req: AuthRequest): Promise<AuthOutcome> {
    return this.authenticator.authenticate(req);
  }

  /**
   * authenticate() and, when `scope` is given, the scope check; with `session` (and its owner, null when unknown) the
   * session check too. A refusal after authentication goes to the audit log.
   */
  async authorize(req: AuthRequest, scope: Scope | null, session?: { id: string; owner: string | null }): Promise<AuthOutcome> {
    const out = await this.authenticate(req);
    if (!out.ok) return out;
    const why = (scope ? requireScope(out.identity, scope) : null) ?? (session ? checkSessionAccess(out.identity, session.id, session.owner) : null);
    if (!why) return out;
    this.authenticator.forbidden(req, out.identity, why, `${scope ?? 'access'}${session ? ` ${session.id}` : ''}`);
    return { ok: false, refusal: why };
  }

  /** The HTTP answer for a refusal (JSON error body, WWW-Authenticate / Retry-After). */
  respond(r: AuthRefusal, headers: Record<string, string> = {}): { status: number; headers: Record<string, string>; body: string } {
    return refusalResponse(r, headers);
  }

  /** Whether this identity is an authenticated admin (auth on): the only one shown filesystem paths. */
  isAuthenticatedAdmin(identity: Identity): boolean {
    return identity.kind !== 'none' && identity.scopes.includes('admin');
  }
}
