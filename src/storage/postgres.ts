import pg from 'pg';
import { MIGRATIONS_TABLE, MIGRATIONS_TABLE_SQL, pendingMigrations } from './migrations.js';
import {
  ALERT_COLUMNS, RESULT_COLUMNS, SESSION_COLUMNS, alertFromRow, alertParams, resultFromRow, resultParams, sessionFromRow,
  sessionParams, sessionWhere, timelineWhere,
} from './rows.js';
import { storageError } from './failures.js';
import { resultJson, timelinePage } from './compact.js';
import type { AlertRecord, ResultRow, SessionQuery, SessionRecord, Store, TimelinePage, TimelineQuery, WriteBatch } from './types.js';

/** `?` placeholders (shared with SQLite) -> `$1, $2, ...`. */
function numbered(sql: string, offset = 0): string {
  let n = offset;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** One multi-row INSERT: `VALUES ($1..$k), ($k+1..)`; PostgreSQL takes at most 65535 parameters per statement. */
function multiInsert(table: string, columns: string, rows: unknown[][], conflict: string): { text: string; values: unknown[] } {
  const width = rows[0].length;
  const tuples = rows.map((_, i) => `(${Array.from({ length: width }, (_x, j) => `$${i * width + j + 1}`).join(', ')})`);
  return { text: `INSERT INTO ${table} (${columns}) VALUES ${tuples.join(', ')} ${conflict}`, values: rows.flat() };
}

const MAX_ROWS_PER_INSERT = 4000;

/**
 * PostgreSQL store (`EMOSTREAM_DATABASE_URL=postgres://...`), for several servers sharing one history. A small pool;
 * every call has a statement timeout so a hung server fails the batch (retried by the write queue) instead of
 * holding it for ever.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly where: string;
  private readonly pool: pg.Pool;

  constructor(url: string, opts: { poolSize: number; timeoutMs: number }) {
    const u = new URL(url);
    this.where = `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
    this.pool = new pg.Pool({
      connectionString: url, max: opts.poolSize, connectionTimeoutMillis: opts.timeoutMs,
      statement_timeout: opts.timeoutMs, query_timeout: opts.timeoutMs, idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits 'error' on the pool; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private async q(text: string | pg.QueryArrayConfig, values: unknown[] = []): Promise<pg.QueryResult> {
    try {
      return await (typeof text === 'string' ? this.pool.query(text, values) : this.pool.query(text));
    } catch (err) {
      throw storageError(err, this.where);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storageError(err, this.where);
    }
    // A server that dies mid-transaction makes the checked-out client emit 'error', which would otherwise be an
    // uncaught exception that takes the whole server down; the failed query reports it to the write queue instead.
    const onError = () => undefined;
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      client.off('error', onError);
      client.release();
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A client that failed mid-transaction may be broken: drop it rather than return it to the pool.
      client.release(err instanceof Error ? err : true);
      throw storageError(err, this.where);
    }
  }

  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      // One server migrates at a time; the others wait here and then find nothing left to do.
      await c.query('SELECT pg_advisory_xact_lock(7207202201)');
      await c.query(MIGRATIONS_TABLE_SQL);
      const applied = (await c.query(`SELECT version FROM ${MIGRATIONS_TABLE}`)).rows.map((r: { version: number }) => Number(r.version));
      for (const m of pendingMigrations(applied, this.where)) {
        for (const stmt of m.sql('postgres')) await c.query(stmt);
        await c.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at_ms) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
      }
    });
  }

  async writeBatch(batch: WriteBatch): Promise<void> {
    await this.tx(async (c) => {
      if (batch.sessions.length) {
        const ins = multiInsert('sessions', SESSION_COLUMNS, batch.sessions.map(sessionParams), 'ON CONFLICT (id) DO NOTHING');
        await c.query(ins.text, ins.values);
      }
      for (let i = 0; i < batch.results.length; i += MAX_ROWS_PER_INSERT) {
        const ins = multiInsert('results', RESULT_COLUMNS, batch.results.slice(i, i + MAX_ROWS_PER_INSERT).map(resultParams), 'ON CONFLICT (session_id, hop) DO NOTHING');
        await c.query(ins.text, ins.values);
      }
      if (batch.alerts.length) {
        const ins = multiInsert('alerts', ALERT_COLUMNS, batch.alerts.map(alertParams), '');
        await c.query(ins.text, ins.values);
      }
      for (const e of batch.ends) await c.query('UPDATE sessions SET ended_at_ms = $1, end_reason = $2 WHERE id = $3', [e.endedAtMs, e.endReason, e.id]);
    });
  }

  async listSessions(q: SessionQuery): Promise<SessionRecord[]> {
    const w = sessionWhere(q);
    const res = await this.q(numbered(`SELECT ${SESSION_COLUMNS} FROM sessions ${w.sql} ORDER BY started_at_ms DESC, id DESC LIMIT ?`), [...w.params, q.limit]);
    return res.rows.map(sessionFromRow);
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const res = await this.q(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id]);
    return res.rows[0] ? sessionFromRow(res.rows[0] as Record<string, unknown>) : null;
  }

  async timeline(q: TimelineQuery): Promise<ResultRow[]> {
    const w = timelineWhere(q);
    const res = await this.q(numbered(`SELECT ${RESULT_COLUMNS} FROM results ${w.sql} ORDER BY hop LIMIT ?`), [...w.params, q.limit]);
    return res.rows.map(resultFromRow);
  }

  /**
   * The page's four columns as arrays (no row object per result, nothing parsed), each result's JSON written from its
   * stored text. One string_agg of the page built by PostgreSQL measured slower (its ORDER BY), and without one its
   * order is not promised (bench/results/storage-s8/README.md).
   */
  async timelinePage(q: TimelineQuery): Promise<TimelinePage> {
    const w = timelineWhere(q);
    const res = await this.q({
      text: numbered(`SELECT hop, window_start_us, window_end_us, body FROM results ${w.sql} ORDER BY hop LIMIT ?`), values: [...w.params, q.limit], rowMode: 'array',
    });
    const rows = res.rows as unknown as [number, string, string, string][];
    const quotedId = JSON.stringify(q.sessionId);
    const text = rows.map((r) => resultJson(quotedId, r[0], r[1], r[2], r[3])).join(',');
    return timelinePage(q.sessionId, q.limit, rows.length, rows.length ? rows[rows.length - 1][0] : null, [Buffer.from(text)]);
  }

  async alerts(sessionId: string): Promise<AlertRecord[]> {
    const res = await this.q(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE session_id = $1 ORDER BY hop`, [sessionId]);
    return res.rows.map(alertFromRow);
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM results WHERE session_id = $1', [id]);
      await c.query('DELETE FROM alerts WHERE session_id = $1', [id]);
      return ((await c.query('DELETE FROM sessions WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async purgeBefore(beforeMs: number): Promise<number> {
    return this.tx(async (c) => {
      const old = 'SELECT id FROM sessions WHERE started_at_ms < $1';
      await c.query(`DELETE FROM results WHERE session_id IN (${old})`, [beforeMs]);
      await c.query(`DELETE FROM alerts WHERE session_id IN (${old})`, [beforeMs]);
      return (await c.query('DELETE FROM sessions WHERE started_at_ms < $1', [beforeMs])).rowCount ?? 0;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
