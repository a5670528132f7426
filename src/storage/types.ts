import type { AlertMessage, EmotionResult, ModelSummary } from '../protocol/v1/messages.js';

/** What is kept of a session besides its results. Times are epoch milliseconds. */
export interface SessionRecord {
  id: string;
  /** The identity that opened the session (the access-control subject); 'anonymous' without access control. */
  owner: string;
  startedAtMs: number;
  endedAtMs: number | null;
  /** 'client-end', 'client-gone', 'shutdown', 'error' once ended. */
  endReason: string | null;
  client: string | null;
  transport: string | null;
  /** The welcome's model list (name, modality, provider) with `version`: a hash of the model's files. */
  models: (ModelSummary & { version?: string })[];
  windowMs: number;
  hopMs: number;
}

/**
 * One result in compact form: the columns the summary and the list queries need, and `body`, the rest of the result
 * as JSON (posteriors per modality, latency, faces, AUs, and any field a later protocol adds: `smoothed`, `voice`,
 * driver state...), so the stored result rebuilds to exactly what the client received.
 */
export interface ResultRow {
  sessionId: string;
  hop: number;
  windowStartUs: number;
  windowEndUs: number;
  /** The fused label, null when nothing was fused. */
  label: string | null;
  hasVoice: boolean;
  hasFace: boolean;
  totalMs: number;
  body: string;
}

/** An alert as the alerts module emits it (the protocol's `alert` message), stored with the session. */
export type AlertRecord = AlertMessage;

export interface SessionQuery {
  /** Only this owner's sessions; undefined = every owner (admin). */
  owner?: string;
  /** Sessions that started at or after / before these epoch ms. */
  fromMs?: number;
  toMs?: number;
  /** Page size and the opaque cursor of the previous page's last session (its startedAtMs and id). */
  limit: number;
  before?: { startedAtMs: number; id: string };
}

/**
 * A timeline page as the API sends it: the JSON body `{"sessionId","results":[...],"nextFromHop"}` as UTF-8 bytes,
 * built by the database from the stored text (no result is parsed or becomes an object; across the SQLite worker
 * thread it moves as one transferred buffer), with how many results it holds and the `fromHop` of the next page
 * (null when this page holds fewer than `limit`).
 */
export interface TimelinePage {
  json: Uint8Array;
  results: number;
  nextFromHop: number | null;
}

export interface TimelineQuery {
  sessionId: string;
  /** Hops from this one on (inclusive). */
  fromHop?: number;
  /** Only windows ending at or after / starting before these session times (µs). */
  fromUs?: number;
  toUs?: number;
  limit: number;
}

/**
 * The one storage interface: SQLite (embedded default) and PostgreSQL implement it. Writes come in batches from the
 * write queue (src/storage/write-queue.ts), never from the streaming path itself.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Human description for logs (file path or host/database, never a password). */
  readonly where: string;
  /** Creates the schema or brings it up to date (versioned migrations in a table). */
  migrate(): Promise<void>;
  /** Session starts/ends, results and alerts, in one transaction. */
  writeBatch(batch: WriteBatch): Promise<void>;
  listSessions(q: SessionQuery): Promise<SessionRecord[]>;
  getSession(id: string): Promise<SessionRecord | null>;
  timeline(q: TimelineQuery): Promise<ResultRow[]>;
  /** The same page as `timeline`, as the timeline API's JSON body (`timelineJson` of those rows, byte for byte). */
  timelinePage(q: TimelineQuery): Promise<TimelinePage>;
  alerts(sessionId: string): Promise<AlertRecord[]>;
  /** Erases the session, its results and alerts; false when there was none. */
  deleteSession(id: string): Promise<boolean>;
  /** Erases sessions that started before `beforeMs`; returns how many. */
  purgeBefore(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

export interface WriteBatch {
  sessions: SessionRecord[];
  ends: { id: string; endedAtMs: number; endReason: string }[];
  results: ResultRow[];
  alerts: AlertRecord[];
}

export type { EmotionResult };
