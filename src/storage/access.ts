import type { HttpRequest } from '../server/routes.js';
import type { ErrorCode } from '../protocol/v1/errors.js';

export type HistoryScope = 'history:read' | 'history:delete';

/** Who asks, as far as history is concerned. */
export interface HistoryPrincipal {
  identity: string;
  /** Sees and erases every owner's sessions. */
  admin: boolean;
}

export type AccessDecision =
  | { ok: true; principal: HistoryPrincipal }
  | { ok: false; status: 401 | 403; code: ErrorCode; message: string };

/**
 * THE access decision for the history API and the report page: every route asks here, with the scope it needs and,
 * for one session, that session's owner. Without access control (this build) every caller is the single local
 * operator: identity 'anonymous', admin, every scope; sessions are stored with owner 'anonymous'.
 */
export function authorizeHistory(_req: HttpRequest, _scope: HistoryScope, owner?: string): AccessDecision {
  const principal: HistoryPrincipal = { identity: 'anonymous', admin: true };
  if (owner !== undefined && !principal.admin && owner !== principal.identity) {
    return { ok: false, status: 403, code: 'EMO_ERR_FORBIDDEN', message: 'this session belongs to another identity' };
  }
  return { ok: true, principal };
}
