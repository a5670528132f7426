import { ProtocolError } from '../protocol/v1/errors.js';

/**
 * A storage failure as the catalogue's error (EMO_ERR_INTERNAL: no client is ever told more) with a sentence an
 * operator can act on. `transient` failures (a lock held by another process, a database server that is down or
 * restarting) are retried by the write queue; the others (a file that is not a database, a folder that cannot be
 * written) stop the server at start with this message.
 */
export function storageFailure(message: string, transient: boolean, cause?: unknown): ProtocolError {
  return new ProtocolError('EMO_ERR_INTERNAL', message, { transient, cause });
}

/** `err` (a driver or file-system error) explained, with where it happened; a storage failure already made is kept. */
export function storageError(err: unknown, where: string): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const code = (err as { code?: string }).code;
  const text = err instanceof Error ? err.message : String(err);
  const explain = EXPLAIN[code ?? ''];
  return storageFailure(`${where}: ${explain ? `${explain} (${code}: ${text})` : text}`, TRANSIENT.has(code ?? ''), err);
}

const EXPLAIN: Record<string, string> = {
  SQLITE_BUSY: 'the database is locked by another process; writes are retried',
  SQLITE_LOCKED: 'the database is locked; writes are retried',
  SQLITE_CANTOPEN: 'cannot open or create the file: check that its folder exists and is writable (storage.dataDir)',
  SQLITE_READONLY: 'the file or its folder is read-only: make it writable or point storage.dataDir elsewhere',
  SQLITE_READONLY_DBMOVED: 'the file was moved or deleted while open',
  SQLITE_NOTADB: 'the file is not an SQLite database (corrupt or another format): move it away to start a new one',
  SQLITE_CORRUPT: 'the database file is corrupt: restore a backup or move it away to start a new one',
  SQLITE_IOERR: 'input/output error writing the file (disk full or failing?)',
  SQLITE_FULL: 'the disk is full',
  SQLITE_PERM: 'permission denied',
  ENOTDIR: 'a part of the folder path is a file, not a folder (storage.dataDir)',
  EACCES: 'permission denied creating the folder (storage.dataDir)',
  EROFS: 'the file system is read-only (storage.dataDir)',
  ECONNREFUSED: 'the PostgreSQL server refuses connections (down or wrong port); writes are retried',
  ECONNRESET: 'the PostgreSQL connection was reset; writes are retried',
  ETIMEDOUT: 'the PostgreSQL server did not answer in time; writes are retried',
  '57P01': 'the PostgreSQL server is shutting down; writes are retried',
  '57P03': 'the PostgreSQL server is starting up; writes are retried',
  '28P01': 'PostgreSQL refused the password',
  '3D000': 'the PostgreSQL database does not exist',
};

const TRANSIENT = new Set([
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND',
  'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300',
]);
