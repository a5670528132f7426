import { checkSessionAccess, type AuthRequest, type Identity, type ServerAuth, type SessionDirectory } from '../auth/index.js';
import type { HttpResponse } from '../server/routes.js';

export type HistoryScope = 'history:read' | 'history:delete';

export type AccessDecision = { ok: true; identity: Identity; admin: boolean } | { ok: false; response: HttpResponse };

/**
 * THE access decision of the history API, the report page and late-join replays (src/auth; docs/security.md): the
 * credentials must carry `scope`; with a stored session, the identity must own it (or be admin, or be pinned to it).
 * With auth off every caller is the anonymous admin and sessions are stored with owner 'anonymous'.
 */
export async function authorizeHistory(auth: ServerAuth, req: AuthRequest, scope: HistoryScope): Promise<AccessDecision> {
  const out = await auth.authorize(req, scope);
  if (!out.ok) return { ok: false, response: auth.respond(out.refusal) };
  return { ok: true, identity: out.identity, admin: out.identity.scopes.includes('admin') };
}

/** The session part of the decision, for an identity that passed `authorizeHistory`: null when allowed. */
export function sessionRefusal(auth: ServerAuth, req: AuthRequest, identity: Identity, session: { id: string; owner: string }, action: string): HttpResponse | null {
  const why = checkSessionAccess(identity, session.id, session.owner);
  if (!why) return null;
  auth.authenticator.forbidden(req, identity, why, `${action} ${session.id}`);
  return auth.respond(why);
}

/** `/v1/subscribe?since=`: a replay hands out stored results, so it needs history:read on that live session too. */
export async function replayGrant(auth: ServerAuth, req: AuthRequest, sessionId: string | null, sessions: SessionDirectory) {
  const owner = sessionId === null ? null : sessions.ownerOf(sessionId) ?? await sessions.ownerElsewhere(sessionId);
  return auth.authorize(req, 'history:read', sessionId === null ? undefined : { id: sessionId, owner });
}
