import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS_TABLE, MIGRATIONS_TABLE_SQL, pendingMigrations } from './migrations.js';
import {
  ALERT_COLUMNS, RESULT_COLUMNS, SESSION_COLUMNS, alertFromRow, alertParams, resultFromRow, resultParams, sessionFromRow,
  sessionParams, sessionWhere, timelineWhere,
} from './rows.js';
import { storageError } from './failures.js';
import { resultJsonSql, timelinePage } from './compact.js';
import type { AlertRecord, ResultRow, SessionQuery, SessionRecord, Store, TimelinePage, TimelineQuery, WriteBatch } from './types.js';

type Row = Record<string, unknown>;

/** Page size of a new SQLite file (see the constructor). */
export const SQLITE_PAGE_BYTES = 16384;

/**
 * The embedded store: one SQLite file (WAL journal). better-sqlite3 is synchronous: the server runs this class on a
 * worker thread of its own (SqliteThreadStore), so its calls never block the event loop. `busyTimeoutMs` bounds how
 * long a call waits for another process's lock before failing with SQLITE_BUSY (the write queue then retries).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(readonly where: string, busyTimeoutMs: number) {
    try {
      if (where !== ':memory:') mkdirSync(dirname(where), { recursive: true });
      this.db = new Database(where, { timeout: busyTimeoutMs });
      // A new file gets 16 kB pages (a file that exists keeps its own). Results are stored in their key's order
      // (WITHOUT ROWID) and a result's text (~1.1 kB) is more than such a table keeps in a 4 kB page (~1 kB): each
      // result then took a page of overflow of its own (4.7 kB a result on disk, two pages read per result). In 16 kB
      // pages up to 4 kB of a result stay in the page: the file is 4x smaller, writes ~2x faster, and the 1-hour
      // timeline's SELECT costs ~35% less CPU (bench/results/storage-s8).
      this.db.pragma(`page_size = ${SQLITE_PAGE_BYTES}`);
      // Fails here, not later, on a file that is not a database.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = OFF');
    } catch (err) {
      throw storageError(err, `SQLite file ${where}`);
    }
  }

  async migrate(): Promise<void> {
    // Several event loops (server.eventLoops) may migrate the same file at once: here, waiting is fine.
    const busy = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 10000');
    try {
      this.migrateNow();
    } finally {
      this.db.pragma(`busy_timeout = ${busy}`);
    }
  }

  private migrateNow(): void {
    this.run(() => {
      this.db.exec(MIGRATIONS_TABLE_SQL);
      const apply = this.db.transaction(() => {
        const applied = (this.db.prepare(`SELECT version FROM ${MIGRATIONS_TABLE}`).all() as Row[]).map((r) => Number(r.version));
        for (const m of pendingMigrations(applied, this.where)) {
          for (const stmt of m.sql('sqlite')) this.db.exec(stmt);
          this.db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at_ms) VALUES (?, ?, ?)`).run(m.version, m.name, Date.now());
        }
      });
      apply.immediate();
    });
  }

  async writeBatch(batch: WriteBatch): Promise<void> {
    this.run(() => this.writeTx.immediate(batch));
  }

  private readonly writeTx = (() => {
    let stmts: { session: Database.Statement; end: Database.Statement; result: Database.Statement; alert: Database.Statement } | null = null;
    return this.lazyTx((batch: WriteBatch) => {
      stmts ??= {
        session: this.db.prepare(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
        end: this.db.prepare('UPDATE sessions SET ended_at_ms = ?, end_reason = ? WHERE id = ?'),
        result: this.db.prepare(`INSERT INTO results (${RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, hop) DO NOTHING`),
        alert: this.db.prepare(`INSERT INTO alerts (${ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      };
      for (const s of batch.sessions) stmts.session.run(...sessionParams(s));
      for (const r of batch.results) stmts.result.run(...resultParams(r));
      for (const a of batch.alerts) stmts.alert.run(...alertParams(a));
      for (const e of batch.ends) stmts.end.run(e.endedAtMs, e.endReason, e.id);
    });
  })();

  /** A transaction created on first use (the tables exist only after migrate). */
  private lazyTx<A>(fn: (a: A) => void): { immediate(a: A): void } {
    let tx: Database.Transaction<(a: A) => void> | null = null;
    return { immediate: (a) => (tx ??= this.db.transaction(fn)).immediate(a) };
  }

  async listSessions(q: SessionQuery): Promise<SessionRecord[]> {
    const w = sessionWhere(q);
    return this.run(() => (this.db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions ${w.sql} ORDER BY started_at_ms DESC, id DESC LIMIT ?`)
      .all(...w.params, q.limit) as Row[]).map(sessionFromRow));
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.run(() => {
      const r = this.db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`).get(id) as Row | undefined;
      return r ? sessionFromRow(r) : null;
    });
  }

  async timeline(q: TimelineQuery): Promise<ResultRow[]> {
    const w = timelineWhere(q);
    return this.run(() => (this.db.prepare(`SELECT ${RESULT_COLUMNS} FROM results ${w.sql} ORDER BY hop LIMIT ?`).all(...w.params, q.limit) as Row[]).map(resultFromRow));
  }

  private readonly pageStatements = new Map<string, Database.Statement>();

  /**
   * One prepared statement per WHERE shape (at most 8), rows as arrays: SQLite writes each result's JSON (with a
   * leading comma) as bytes, in hop order, and they are copied once into the page. (One string_agg of the page would
   * be cheaper still, but its order is documented only with ORDER BY inside it, which SQLite runs 6x slower.)
   */
  async timelinePage(q: TimelineQuery): Promise<TimelinePage> {
    const w = timelineWhere(q);
    return this.run(() => {
      let st = this.pageStatements.get(w.sql);
      if (!st) {
        st = this.db.prepare(`SELECT hop, CAST(',' || ${resultJsonSql('?')} AS BLOB) FROM results ${w.sql} ORDER BY hop LIMIT ?`).raw(true);
        this.pageStatements.set(w.sql, st);
      }
      const rows = st.all(JSON.stringify(q.sessionId), ...w.params, q.limit) as [number, Buffer][];
      const parts = rows.map((r, i) => (i === 0 ? r[1].subarray(1) : r[1]));
      return timelinePage(q.sessionId, q.limit, rows.length, rows.length ? rows[rows.length - 1][0] : null, parts);
    });
  }

  async alerts(sessionId: string): Promise<AlertRecord[]> {
    return this.run(() => (this.db.prepare(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE session_id = ? ORDER BY hop`).all(sessionId) as Row[]).map(alertFromRow));
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.run(() => this.db.transaction(() => {
      this.db.prepare('DELETE FROM results WHERE session_id = ?').run(id);
      this.db.prepare('DELETE FROM alerts WHERE session_id = ?').run(id);
      return this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id).changes > 0;
    }).immediate());
  }

  async purgeBefore(beforeMs: number): Promise<number> {
    return this.run(() => this.db.transaction(() => {
      const old = 'SELECT id FROM sessions WHERE started_at_ms < ?';
      this.db.prepare(`DELETE FROM results WHERE session_id IN (${old})`).run(beforeMs);
      this.db.prepare(`DELETE FROM alerts WHERE session_id IN (${old})`).run(beforeMs);
      return this.db.prepare('DELETE FROM sessions WHERE started_at_ms < ?').run(beforeMs).changes;
    }).immediate());
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storageError(err, `SQLite file ${this.where}`);
    }
  }
}
