import { parentPort } from 'node:worker_threads';
import { storageError } from './errors.js';
import { SqliteStore } from './sqlite.js';

/**
 * The SQLite connection's own thread (src/storage/sqlite-thread.ts starts it): better-sqlite3 is synchronous, and
 * here a slow disk, a checkpoint's fsync or another process's lock waits on this thread, never on the event loop
 * that sends results to clients.
 */
type Request = { init: { path: string; busyTimeoutMs: number } } | { id: number; method: keyof SqliteStore; args: unknown[] };

let store: SqliteStore | null = null;

const errorOf = (err: unknown) => {
  const e = storageError(err, store?.where ?? 'SQLite');
  return { message: e.message, transient: e.transient };
};

parentPort!.on('message', async (msg: Request) => {
  if ('init' in msg) {
    try {
      store = new SqliteStore(msg.init.path, msg.init.busyTimeoutMs);
      parentPort!.postMessage({ ready: true });
    } catch (err) {
      parentPort!.postMessage({ ready: false, error: errorOf(err) });
    }
    return;
  }
  try {
    const fn = store![msg.method] as (...a: unknown[]) => Promise<unknown>;
    parentPort!.postMessage({ id: msg.id, ok: true, value: await fn.apply(store, msg.args) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: errorOf(err) });
  }
});
