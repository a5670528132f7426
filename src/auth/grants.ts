import { checkSessionAccess } from './authorize.js';
import type { ServerAuth } from './server-auth.js';
import { normalizeAddress } from './credentials.js';
import { refusal, type AuthRefusal, type AuthRequest, type Identity } from './types.js';

/** The owners of live sessions, on this event loop and the others (SessionManager provides it). */
export interface SessionDirectory {
  ownerOf(id: string): string | null;
  ownerElsewhere(id: string): Promise<string | null>;
}

/** Permission to open a session or a subscription: `release` gives its slot back when it ends (call it once). */
export type Grant = { ok: true; identity: Identity; release: () => void } | { ok: false; refusal: AuthRefusal };

async function liveOwner(sessions: SessionDirectory, id: string): Promise<string | null> {
  return sessions.ownerOf(id) ?? await sessions.ownerElsewhere(id);
}

function originRefusal(auth: ServerAuth, req: AuthRequest): AuthRefusal | null {
  return auth.origins.check(req.headers.origin, req.headers.host);
}

function withSlot(auth: ServerAuth, kind: 'session' | 'subscription', identity: Identity, req: AuthRequest): Grant {
  const slot = auth.limits.acquire(kind, identity, normalizeAddress(req.remoteAddress ?? ''));
  return typeof slot === 'function' ? { ok: true, identity, release: slot } : { ok: false, refusal: slot };
}

/**
 * May this request open a session (WebSocket /v1/stream or WHIP POST)? Origin, credentials, the publish scope, a
 * pinned session id that is not live yet, and the per-identity / per-address session limits.
 */
export async function grantPublish(auth: ServerAuth, req: AuthRequest, sessions: SessionDirectory): Promise<Grant> {
  const bad = originRefusal(auth, req);
  if (bad) return { ok: false, refusal: bad };
  const out = await auth.authorize(req, 'publish');
  if (!out.ok) return out;
  const pinned = out.identity.session;
  if (pinned !== null && (await liveOwner(sessions, pinned)) !== null) {
    const why = refusal(403, 'EMO_ERR_FORBIDDEN', `session ${pinned} is already live`);
    auth.authenticator.forbidden(req, out.identity, why, `publish ${pinned}`);
    return { ok: false, refusal: why };
  }
  return withSlot(auth, 'session', out.identity, req);
}

/**
 * May this request subscribe to `sessionId`? Origin, credentials, the subscribe scope, access to the session (its
 * owner, a credential pinned to it, or admin; an unknown session counts as another identity's), and the
 * subscription limits. A missing id passes here: the subscribe handler answers EMO_ERR_UNKNOWN_SESSION.
 */
export async function grantSubscribe(auth: ServerAuth, req: AuthRequest, sessionId: string | null, sessions: SessionDirectory): Promise<Grant> {
  const bad = originRefusal(auth, req);
  if (bad) return { ok: false, refusal: bad };
  const out = await auth.authorize(req, 'subscribe');
  if (!out.ok) return out;
  if (sessionId !== null && auth.enabled) {
    const why = checkSessionAccess(out.identity, sessionId, await liveOwner(sessions, sessionId));
    if (why) {
      auth.authenticator.forbidden(req, out.identity, why, `subscribe ${sessionId}`);
      return { ok: false, refusal: why };
    }
  }
  return withSlot(auth, 'subscription', out.identity, req);
}
