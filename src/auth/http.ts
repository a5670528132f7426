import type { IncomingMessage } from 'node:http';
import type { AuthRefusal, AuthRequest } from './types.js';

/** The HTTP answer for a refusal: `{type:'error', code, message}` as everywhere, WWW-Authenticate on 401 (RFC 6750). */
export function refusalResponse(r: AuthRefusal, extraHeaders: Record<string, string> = {}): { status: number; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (r.status === 401) headers['www-authenticate'] = `Bearer realm="emostream", error="${r.code === 'EMO_ERR_TOKEN_EXPIRED' ? 'invalid_token' : 'invalid_request'}"`;
  if (r.status === 403) headers['www-authenticate'] = 'Bearer realm="emostream", error="insufficient_scope"';
  if (r.retryAfterS !== undefined) headers['retry-after'] = String(r.retryAfterS);
  return { status: r.status, headers, body: JSON.stringify({ type: 'error', code: r.code, message: r.message }) };
}

/** An AuthRequest from a plain node:http request (handlers outside the RouteTable). */
export function authRequestFromNode(req: IncomingMessage): AuthRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { headers, query: new URL(req.url ?? '/', 'http://localhost').searchParams, remoteAddress: req.socket.remoteAddress ?? '' };
}
