import type { EmotionResult } from '../protocol/v1/messages.js';
import type { ResultRow } from './types.js';

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
  const head = `{"type":"emotion","sessionId":${JSON.stringify(row.sessionId)},"hop":${row.hop},"windowStartUs":${row.windowStartUs},"windowEndUs":${row.windowEndUs}`;
  return row.body.length > 2 ? `${head},${row.body.slice(1)}` : `${head}}`;
}

/** The body of a timeline page: `{"sessionId", "results": [...], "nextFromHop"}` from stored rows, without re-parsing. */
export function timelineJson(sessionId: string, rows: readonly ResultRow[], nextFromHop: number | null): string {
  return `{"sessionId":${JSON.stringify(sessionId)},"results":[${rows.map(rowJson).join(',')}],"nextFromHop":${nextFromHop}}`;
}
