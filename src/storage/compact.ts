import type { EmotionResult } from '../protocol/v1/messages.js';
import type { ResultRow, TimelinePage } from './types.js';

/** The fields kept in columns; everything else of a result goes into `body` as JSON. */
type ColumnFields = 'type' | 'sessionId' | 'hop' | 'windowStartUs' | 'windowEndUs';

/** A result -> its stored row. Unknown (later) fields stay in `body`, so nothing the client got is lost. */
export function toRow(result: EmotionResult): ResultRow {
  const { type: _type, sessionId, hop, windowStartUs, windowEndUs, ...rest } = result;
  return {
    sessionId, hop, windowStartUs, windowEndUs,
    label: result.fused?.label ?? null,
    hasVoice: result.speech !== null,
    hasFace: result.face !== null || (result.faces?.count ?? 0) > 0,
    totalMs: result.latency.totalMs,
    body: JSON.stringify(rest),
  };
}

/** A stored row -> the result as the client received it (same fields, same key order for the column fields). */
export function fromRow(row: ResultRow): EmotionResult {
  const rest = JSON.parse(row.body) as Omit<EmotionResult, ColumnFields>;
  return { type: 'emotion', sessionId: row.sessionId, hop: row.hop, windowStartUs: row.windowStartUs, windowEndUs: row.windowEndUs, ...rest };
}

/**
 * The JSON text of `fromRow(row)` built without parsing `body` (same keys, same order): a 1-hour timeline is 7,200
 * rows, and parsing then re-serialising each one would cost most of the time of answering it.
 */
export function rowJson(row: ResultRow): string {
  return resultJson(JSON.stringify(row.sessionId), row.hop, row.windowStartUs, row.windowEndUs, row.body);
}

/** `rowJson` from the stored columns as they come (`quotedId` = JSON.stringify(sessionId); pg gives BIGINTs as digits). */
export function resultJson(quotedId: string, hop: number, windowStartUs: number | string, windowEndUs: number | string, body: string): string {
  const head = `{"type":"emotion","sessionId":${quotedId},"hop":${hop},"windowStartUs":${windowStartUs},"windowEndUs":${windowEndUs}`;
  return body.length > 2 ? `${head},${body.slice(1)}` : `${head}}`;
}

/** The body of a timeline page: `{"sessionId", "results": [...], "nextFromHop"}` from stored rows, without re-parsing. */
export function timelineJson(sessionId: string, rows: readonly ResultRow[], nextFromHop: number | null): string {
  return `${timelineHead(sessionId)}${rows.map(rowJson).join(',')}${timelineTail(nextFromHop)}`;
}

const timelineHead = (sessionId: string) => `{"sessionId":${JSON.stringify(sessionId)},"results":[`;
const timelineTail = (nextFromHop: number | null) => `],"nextFromHop":${nextFromHop}}`;

/**
 * `rowJson` as SQLite SQL, so the database writes each result's JSON from the stored text (nothing is parsed, no row
 * becomes a JS object). `quotedIdParam` is the placeholder of `JSON.stringify(sessionId)`. Integers print as JS prints
 * them: hops and µs are integers, and an INTEGER || text is its decimal digits.
 */
export function resultJsonSql(quotedIdParam: string): string {
  return `'{"type":"emotion","sessionId":' || ${quotedIdParam} || ',"hop":' || hop || ',"windowStartUs":' || window_start_us
    || ',"windowEndUs":' || window_end_us || CASE WHEN length(body) > 2 THEN ',' || substr(body, 2) ELSE '}' END`;
}

/**
 * A timeline page's body from the JSON of its results (`parts`: consecutive pieces of the text between `[` and `]`),
 * as UTF-8 bytes in a buffer of their own (a worker thread hands it over without a copy): the same bytes as
 * `timelineJson` over the same rows.
 */
export function timelinePage(sessionId: string, limit: number, results: number, lastHop: number | null, parts: readonly Uint8Array[]): TimelinePage {
  const nextFromHop = results === limit && lastHop !== null ? lastHop + 1 : null;
  const head = Buffer.from(timelineHead(sessionId));
  const tail = Buffer.from(timelineTail(nextFromHop));
  const json = new Uint8Array(head.length + parts.reduce((n, p) => n + p.length, 0) + tail.length);
  json.set(head, 0);
  let at = head.length;
  for (const p of parts) {
    json.set(p, at);
    at += p.length;
  }
  json.set(tail, at);
  return { json, results, nextFromHop };
}
