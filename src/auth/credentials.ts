import { refusal, type AuthRefusal, type AuthRequest } from './types.js';

/**
 * The credential a request carries: `Authorization: Bearer <token>` (HTTP, WHIP, WebSocket upgrades from Node) or
 * the `access_token` query parameter (browsers cannot set headers on a WebSocket). Both at once is refused with
 * 400, as RFC 6750 section 2 prescribes ("MUST NOT use more than one method"): no precedence to get wrong.
 */
export function extractCredential(req: Pick<AuthRequest, 'headers' | 'query'>): { token: string | null } | { refusal: AuthRefusal } {
  const header = req.headers.authorization;
  const fromQuery = req.query.getAll('access_token');
  if (fromQuery.length > 1) return { refusal: refusal(400, 'EMO_ERR_UNAUTHORIZED', 'access_token given more than once') };
  let fromHeader: string | null = null;
  if (header !== undefined && header !== '') {
    const m = /^Bearer +([^ ]+) *$/i.exec(header);
    if (!m) return { refusal: refusal(401, 'EMO_ERR_UNAUTHORIZED', 'Authorization header must be "Bearer <token>"') };
    fromHeader = m[1];
  }
  if (fromHeader !== null && fromQuery.length > 0) {
    return { refusal: refusal(400, 'EMO_ERR_UNAUTHORIZED', 'token sent both in the Authorization header and as access_token: send it once') };
  }
  const token = fromHeader ?? fromQuery[0] ?? null;
  return { token: token === '' ? null : token };
}

/** A path and query fit for a log line: every query value is replaced (tokens, session names). */
export function redactUrl(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  if (q < 0) return pathAndQuery;
  const params = new URLSearchParams(pathAndQuery.slice(q + 1));
  const keys = [...new Set(params.keys())].map((k) => `${encodeURIComponent(k)}=REDACTED`);
  return `${pathAndQuery.slice(0, q)}?${keys.join('&')}`;
}

/** IPv4 peers seen through an IPv6 socket (`::ffff:1.2.3.4`) count as the IPv4 address. */
export function normalizeAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
