import { refusal, type AuthRefusal } from './types.js';

/**
 * Browser Origin policy for WebSocket upgrades and cross-origin HTTP (CORS). A request without Origin is not from a
 * browser page and passes (credentials guard it). With an Origin: allowed when listed in `server.allowedOrigins`
 * ('*' lists every origin), when it is the server's own origin (its host equals the Host header), or, with no list
 * and auth mode none, always (a local development server). With auth on and no list only same-origin pages pass:
 * no third-party page can drive a browser's access_token against the server.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;
  private readonly any: boolean;

  constructor(allowedOrigins: readonly string[], private readonly authOn: boolean) {
    this.allowed = new Set(allowedOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
    this.any = this.allowed.has('*') || (!authOn && this.allowed.size === 0);
  }

  /** Whether a request with this Origin (and Host) header may proceed. */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined || origin === '') return true;
    if (this.any) return true;
    const o = origin.toLowerCase();
    if (this.allowed.has(o)) return true;
    try {
      return host !== undefined && new URL(o).host === host.toLowerCase();
    } catch {
      return false;
    }
  }

  check(origin: string | undefined, host: string | undefined): AuthRefusal | null {
    return this.allows(origin, host) ? null : refusal(403, 'EMO_ERR_FORBIDDEN', 'Origin not in server.allowedOrigins');
  }

  /** The Access-Control-Allow-Origin value for a response to this request, or null for none. */
  corsOrigin(origin: string | undefined, host: string | undefined): string | null {
    // '*' only for a server without auth: with credentials the page's own origin is echoed (and Vary: Origin set).
    if (!this.authOn && this.any) return '*';
    return origin && this.allows(origin, host) ? origin : null;
  }
}
