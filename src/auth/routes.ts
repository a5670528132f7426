import type { RouteTable } from '../server/routes.js';
import { json } from '../server/routes.js';
import type { ServerAuth } from './server-auth.js';
import { isScope } from './types.js';

/**
 * GET /v1/auth/whoami[?scope=S[&session=ID]]: what the server makes of the request's credential (subject, scopes,
 * pinned session, expiry), or the refusal with its code; with `scope` (and `session`) the same checks as the action
 * would get. Browsers cannot read why a WebSocket upgrade was refused; the web page asks here to show the reason.
 */
export function registerAuthRoutes(routes: RouteTable, auth: ServerAuth, ownerOf: (sessionId: string) => Promise<string | null>): void {
  routes.add('GET', '/v1/auth/whoami', async (req) => {
    const scope = req.query.get('scope');
    const sessionId = req.query.get('session');
    if (scope !== null && !isScope(scope)) return json(400, { type: 'error', code: 'EMO_ERR_BAD_MESSAGE', message: `unknown scope ${scope.slice(0, 40)}` });
    const out = await auth.authorize(req, scope, sessionId !== null && auth.enabled ? { id: sessionId, owner: await ownerOf(sessionId) } : undefined);
    if (!out.ok) return auth.respond(out.refusal);
    const id = out.identity;
    return json(200, {
      mode: auth.authenticator.mode, kind: id.kind, subject: id.subject, scopes: id.scopes, session: id.session,
      expiresAt: id.expiresAtMs === null ? null : new Date(id.expiresAtMs).toISOString(),
    }, { 'cache-control': 'no-store' });
  });
}
