/**
 * Versioned schema migrations, applied in order at start and recorded in `emostream_migrations`. A migration is never
 * edited once released: changes are new versions. The SQL is shared by SQLite and PostgreSQL except where a
 * dialect needs its own (`sqlite` / `postgres` below).
 */
export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  sql(dialect: Dialect): string[];
}

export const MIGRATIONS_TABLE = 'emostream_migrations';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, results, alerts',
    sql: (d) => [
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, started_at_ms BIGINT NOT NULL, ended_at_ms BIGINT, end_reason TEXT,
        client TEXT, transport TEXT, models TEXT NOT NULL, window_ms INTEGER NOT NULL, hop_ms INTEGER NOT NULL)`,
      'CREATE INDEX sessions_started ON sessions (started_at_ms, id)',
      'CREATE INDEX sessions_owner_started ON sessions (owner, started_at_ms, id)',
      // One row per hop; the key is the order of the timeline, so reads walk it without sorting.
      `CREATE TABLE results (
        session_id TEXT NOT NULL, hop INTEGER NOT NULL, window_start_us BIGINT NOT NULL, window_end_us BIGINT NOT NULL,
        label TEXT, has_voice SMALLINT NOT NULL, has_face SMALLINT NOT NULL, total_ms DOUBLE PRECISION NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (session_id, hop))${d === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
      `CREATE TABLE alerts (
        session_id TEXT NOT NULL, hop INTEGER NOT NULL, at_us BIGINT NOT NULL, rule TEXT NOT NULL, kind TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL, message TEXT NOT NULL)`,
      'CREATE INDEX alerts_session ON alerts (session_id, hop)',
    ],
  },
];

export const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)`;

/** The migrations still to apply given the versions already recorded; refuses a database newer than this server. */
export function pendingMigrations(applied: readonly number[], where: string): Migration[] {
  const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
  const newest = Math.max(0, ...applied);
  if (newest > latest) {
    throw new Error(`storage ${where} has schema version ${newest}, newer than this server's ${latest}: upgrade emostream or use another database`);
  }
  return MIGRATIONS.filter((m) => !applied.includes(m.version));
}
