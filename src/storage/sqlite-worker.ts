import { workerData } from 'node:worker_threads';
import { serve } from '../runtime/serve.js';
import { storageError } from './failures.js';
import { SqliteStore } from './sqlite.js';

/**
 * The SQLite connection's own thread (src/storage/sqlite-thread.ts starts it): better-sqlite3 is synchronous, and
 * here a slow disk, a checkpoint's fsync or another process's lock waits on this thread, never on the event loop
 * that sends results to clients. Errors leave as the catalogue's ProtocolError (storageError), whose text, `transient` and `code` cross over.
 */
export interface SqliteWorkerData { path: string; busyTimeoutMs: number }
export interface SqliteCall { method: keyof SqliteStore; args: unknown[] }

let store: SqliteStore | null = null;

/**
 * A timeline page's bytes (TimelinePage.json, a buffer of their own) are handed to the event loop's thread, not copied:
 * a 1-hour page is 7.8 MB.
 */
function transferOf(value: unknown): ArrayBuffer[] {
  const json = (value as { json?: unknown } | null)?.json;
  return json instanceof Uint8Array && json.byteOffset === 0 && json.byteLength === json.buffer.byteLength && json.buffer instanceof ArrayBuffer ? [json.buffer] : [];
}
const init = workerData as SqliteWorkerData;

serve<SqliteCall>({
  init: () => {
    try {
      store = new SqliteStore(init.path, init.busyTimeoutMs);
    } catch (err) {
      throw storageError(err, 'SQLite');
    }
  },
  handle: async (call, ctx) => {
    try {
      const fn = store![call.method] as (...a: unknown[]) => Promise<unknown>;
      const value = await fn.apply(store, call.args);
      ctx.transfer(...transferOf(value));
      return value;
    } catch (err) {
      throw storageError(err, store?.where ?? 'SQLite');
    }
  },
});
