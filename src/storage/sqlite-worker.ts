import { workerData } from 'node:worker_threads';
import { serve } from '../runtime/serve.js';
import { StorageError } from './errors.js';
import { SqliteStore } from './sqlite.js';

/**
 * The SQLite connection's own thread (src/storage/sqlite-thread.ts starts it): better-sqlite3 is synchronous, and
 * here a slow disk, a checkpoint's fsync or another process's lock waits on this thread, never on the event loop
 * that sends results to clients. Errors leave as StorageErrors, whose text, `transient` and `code` cross over.
 */
export interface SqliteWorkerData { path: string; busyTimeoutMs: number }
export interface SqliteCall { method: keyof SqliteStore; args: unknown[] }

let store: SqliteStore | null = null;
const init = workerData as SqliteWorkerData;

serve<SqliteCall>({
  init: () => {
    try {
      store = new SqliteStore(init.path, init.busyTimeoutMs);
    } catch (err) {
      throw StorageError.from(err, 'SQLite');
    }
  },
  handle: async (call) => {
    try {
      const fn = store![call.method] as (...a: unknown[]) => Promise<unknown>;
      return await fn.apply(store, call.args);
    } catch (err) {
      throw StorageError.from(err, store?.where ?? 'SQLite');
    }
  },
});
