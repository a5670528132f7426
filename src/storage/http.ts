import { json, type HttpRequest, type HttpResponse, type RouteTable } from '../server/routes.js';
import { EMOTIONS } from '../protocol/labels.js';
import { ProtocolError, type ErrorCode } from '../protocol/v1/errors.js';
import type { ServerAuth } from '../auth/index.js';
import { authorizeHistory, sessionRefusal, type HistoryScope } from './access.js';
import { fromRow } from './compact.js';
import { CSV_HEADER, csvLine } from './csv.js';
import type { History } from './recorder.js';
import { reportPage } from './report-page.js';
import { SummaryBuilder } from './summary.js';
import type { SessionRecord } from './types.js';

/** Same body as the access-control refusals: `{type: 'error', code, message}` with a catalogue code. */
const fail = (status: number, code: ErrorCode, message: string): HttpResponse => json(status, { type: 'error', code, message });

/** A query parameter the API cannot use: answered 400 with the reason. */
const badQuery = (message: string): ProtocolError => new ProtocolError('EMO_ERR_BAD_MESSAGE', message);

/** Results parsed per turn of the event loop when a route must parse them (summary, CSV). */
const CHUNK_ROWS = 500;

/** An optional integer query parameter within [min, max]; a 400 naming it otherwise. */
function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw badQuery(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  return n;
}

/** A time parameter: epoch milliseconds or an ISO 8601 date. */
function timeParam(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw badQuery(`${name}=${raw}: expected epoch milliseconds or an ISO 8601 date`);
  return ms;
}

const encodeCursor = (s: SessionRecord) => Buffer.from(`${s.startedAtMs}:${s.id}`).toString('base64url');

function decodeCursor(raw: string | null): { startedAtMs: number; id: string } | undefined {
  if (!raw) return undefined;
  const m = /^(\d+):(.+)$/.exec(Buffer.from(raw, 'base64url').toString());
  if (!m) throw badQuery('cursor: not a cursor this API returned');
  return { startedAtMs: Number(m[1]), id: m[2] };
}

/**
 * The history API (docs/history.md): list, summary, timeline (JSON or CSV, paged), erase, and the report page.
 * Every route asks `authorizeHistory` first; unknown sessions are 404, other identities' 403.
 */
export function registerHistoryRoutes(routes: RouteTable, history: History, maxPage: number, auth: ServerAuth): void {
  const guarded = (scope: HistoryScope, fn: (req: HttpRequest, session: SessionRecord | null, gate: { admin: boolean; owner: string }) => Promise<HttpResponse>) => async (req: HttpRequest): Promise<HttpResponse> => {
    try {
      // Credentials and scope first, so a caller without them learns nothing of which sessions exist.
      const gate = await authorizeHistory(auth, req, scope);
      if (!gate.ok) return gate.response;
      const id = req.params.id;
      let session: SessionRecord | null = null;
      if (id !== undefined) {
        session = await history.store.getSession(id);
        if (!session) return fail(404, 'EMO_ERR_UNKNOWN_SESSION', `no stored session ${id}`);
        const refused = sessionRefusal(auth, req, gate.identity, session, scope);
        if (refused) return refused;
      }
      return await fn(req, session, { admin: gate.admin, owner: gate.identity.owner });
    } catch (err) {
      if (err instanceof ProtocolError && err.code === 'EMO_ERR_BAD_MESSAGE') return fail(400, err.code, err.message);
      throw err;
    }
  };

  routes.add('GET', '/v1/sessions', guarded('history:read', async (req, _session, gate) => {
    const asked = req.query.get('owner') ?? undefined;
    if (asked !== undefined && !gate.admin && asked !== gate.owner) {
      return fail(403, 'EMO_ERR_FORBIDDEN', 'only an admin may list another identity\'s sessions');
    }
    const owner = gate.admin ? asked : gate.owner;
    const limit = intParam(req.query, 'limit', 1, 1000) ?? 100;
    const sessions = await history.store.listSessions({
      owner, fromMs: timeParam(req.query, 'from'), toMs: timeParam(req.query, 'to'), limit, before: decodeCursor(req.query.get('cursor')),
    });
    return json(200, { sessions, nextCursor: sessions.length === limit ? encodeCursor(sessions[sessions.length - 1]) : null });
  }));

  routes.add('GET', '/v1/sessions/:id', guarded('history:read', async (_req, session) => {
    const s = session!;
    const builder = new SummaryBuilder();
    // Small pages: each parses a few hundred results on the event loop, then it serves others before the next.
    for (let fromHop = 0; ;) {
      const rows = await history.store.timeline({ sessionId: s.id, fromHop, limit: CHUNK_ROWS });
      for (const r of rows) builder.add(fromRow(r));
      if (rows.length < CHUNK_ROWS) break;
      fromHop = rows[rows.length - 1].hop + 1;
    }
    return json(200, { ...builder.build(s, await history.store.alerts(s.id)), live: history.isLive(s.id), labels: EMOTIONS });
  }));

  routes.add('GET', '/v1/sessions/:id/timeline', guarded('history:read', async (req, session) => {
    const format = req.query.get('format') ?? 'json';
    if (format !== 'json' && format !== 'csv') throw badQuery(`format=${format}: expected json or csv`);
    const limit = intParam(req.query, 'limit', 1, maxPage) ?? maxPage;
    const fromS = req.query.get('fromS');
    const toS = req.query.get('toS');
    const secs = (name: string, raw: string | null) => {
      if (raw === null || raw === '') return undefined;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) throw badQuery(`${name}=${raw}: expected seconds >= 0`);
      return Math.round(n * 1e6);
    };
    const query = { sessionId: session!.id, fromHop: intParam(req.query, 'fromHop', 0, 2 ** 31 - 1), fromUs: secs('fromS', fromS), toUs: secs('toS', toS), limit };
    const nextHeader = (nextFromHop: number | null): Record<string, string> => (nextFromHop === null ? {} : { 'x-next-from-hop': String(nextFromHop) });
    if (format === 'json') {
      // The store builds the body from the stored text: no result is parsed or re-serialised on the event loop.
      const page = await history.store.timelinePage(query);
      return { status: 200, headers: { 'content-type': 'application/json', ...nextHeader(page.nextFromHop) }, body: page.json };
    }
    const rows = await history.store.timeline(query);
    const next = nextHeader(rows.length === limit ? rows[rows.length - 1].hop + 1 : null);
    const lines = [CSV_HEADER];
    for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      for (const row of rows.slice(i, i + CHUNK_ROWS)) lines.push(csvLine(fromRow(row)));
    }
    const body = lines.join('\n') + '\n';
    return { status: 200, headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="session-${session!.id}.csv"`, ...next }, body };
  }));

  routes.add('DELETE', '/v1/sessions/:id', guarded('history:delete', async (_req, session) => {
    await history.erase(session!.id);
    return { status: 204 };
  }));

  routes.add('GET', '/sessions/:id', guarded('history:read', async (_req, session) => ({
    status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: reportPage(session!.id),
  })));
}
