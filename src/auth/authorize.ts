import { refusal, type AuthRefusal, type Identity, type Scope } from './types.js';

/** null when `identity` holds `scope` (admin holds every scope), else the 403 to answer. */
export function requireScope(identity: Identity, scope: Scope): AuthRefusal | null {
  if (identity.scopes.includes(scope) || identity.scopes.includes('admin')) return null;
  return refusal(403, 'EMO_ERR_FORBIDDEN', `credential lacks the ${scope} scope`);
}

/**
 * Whether `identity` may act on session `sessionId` (subscribe, end it, read or delete its history), owned by
 * `owner` (null when unknown, e.g. a session that has ended). Allowed: admin; a credential pinned to exactly this
 * session (the backend that minted it vouches for it: a clinician's subscribe token for the patient's session);
 * an unpinned credential of the identity that created the session. A pinned credential never reaches another one.
 */
export function checkSessionAccess(identity: Identity, sessionId: string, owner: string | null): AuthRefusal | null {
  if (identity.scopes.includes('admin')) return null;
  if (identity.session !== null) {
    return identity.session === sessionId ? null : refusal(403, 'EMO_ERR_FORBIDDEN', 'credential is pinned to another session');
  }
  if (owner !== null && owner === identity.owner) return null;
  return refusal(403, 'EMO_ERR_FORBIDDEN', 'session belongs to another identity');
}

/** Scope check then session check, the usual pair for an action on one session. */
export function authorizeSession(identity: Identity, scope: Scope, sessionId: string, owner: string | null): AuthRefusal | null {
  return requireScope(identity, scope) ?? checkSessionAccess(identity, sessionId, owner);
}
