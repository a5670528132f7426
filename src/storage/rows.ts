import type { AlertRecord, ResultRow, SessionRecord } from './types.js';

/** Column lists and row mappers shared by the SQLite and PostgreSQL stores (pg returns BIGINT as a string). */
export const SESSION_COLUMNS = 'id, owner, started_at_ms, ended_at_ms, end_reason, client, transport, models, window_ms, hop_ms';
export const RESULT_COLUMNS = 'session_id, hop, window_start_us, window_end_us, label, has_voice, has_face, total_ms, body';
export const ALERT_COLUMNS = 'session_id, hop, at_us, rule, kind, value, message';

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function sessionFromRow(r: Row): SessionRecord {
  return {
    id: String(r.id), owner: String(r.owner), startedAtMs: num(r.started_at_ms), endedAtMs: numOrNull(r.ended_at_ms),
    endReason: strOrNull(r.end_reason), client: strOrNull(r.client), transport: strOrNull(r.transport),
    models: JSON.parse(String(r.models)) as SessionRecord['models'], windowMs: num(r.window_ms), hopMs: num(r.hop_ms),
  };
}

export function sessionParams(s: SessionRecord): unknown[] {
  return [s.id, s.owner, s.startedAtMs, s.endedAtMs, s.endReason, s.client, s.transport, JSON.stringify(s.models), s.windowMs, s.hopMs];
}

export function resultFromRow(r: Row): ResultRow {
  return {
    sessionId: String(r.session_id), hop: num(r.hop), windowStartUs: num(r.window_start_us), windowEndUs: num(r.window_end_us),
    label: strOrNull(r.label), hasVoice: num(r.has_voice) === 1, hasFace: num(r.has_face) === 1, totalMs: num(r.total_ms), body: String(r.body),
  };
}

export function resultParams(r: ResultRow): unknown[] {
  return [r.sessionId, r.hop, r.windowStartUs, r.windowEndUs, r.label, r.hasVoice ? 1 : 0, r.hasFace ? 1 : 0, r.totalMs, r.body];
}

export function alertFromRow(r: Row): AlertRecord {
  return {
    type: 'alert', sessionId: String(r.session_id), hop: num(r.hop), atUs: num(r.at_us), rule: String(r.rule),
    kind: String(r.kind) as AlertRecord['kind'], value: num(r.value), message: String(r.message),
  };
}

export function alertParams(a: AlertRecord): unknown[] {
  return [a.sessionId, a.hop, a.atUs, a.rule, a.kind, a.value, a.message];
}

/** WHERE clauses of a session list or a timeline with `?` placeholders (the PostgreSQL store renumbers them). */
export function sessionWhere(q: { owner?: string; fromMs?: number; toMs?: number; before?: { startedAtMs: number; id: string } }): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (q.owner !== undefined) { parts.push('owner = ?'); params.push(q.owner); }
  if (q.fromMs !== undefined) { parts.push('started_at_ms >= ?'); params.push(q.fromMs); }
  if (q.toMs !== undefined) { parts.push('started_at_ms < ?'); params.push(q.toMs); }
  if (q.before) { parts.push('(started_at_ms < ? OR (started_at_ms = ? AND id < ?))'); params.push(q.before.startedAtMs, q.before.startedAtMs, q.before.id); }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export function timelineWhere(q: { sessionId: string; fromHop?: number; fromUs?: number; toUs?: number }): { sql: string; params: unknown[] } {
  const parts = ['session_id = ?'];
  const params: unknown[] = [q.sessionId];
  if (q.fromHop !== undefined) { parts.push('hop >= ?'); params.push(q.fromHop); }
  if (q.fromUs !== undefined) { parts.push('window_end_us >= ?'); params.push(q.fromUs); }
  if (q.toUs !== undefined) { parts.push('window_start_us < ?'); params.push(q.toUs); }
  return { sql: `WHERE ${parts.join(' AND ')}`, params };
}
