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

/**
 * A timeline page's bytes (TimelinePage.json, a buffer of their own) are handed to the event loop's thread, not copied:
 * a 1-hour page is 7.8 MB.
 */
function transferOf(value: unknown): ArrayBuffer[] {
  const json = (value as { json?: unknown } | null)?.json;
  return json instanceof Uint8Array && json.byteOffset === 0 && json.byteLength === json.buffer.byteLength && json.buffer instanceof ArrayBuffer ? [json.buffer] : [];
}

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
    const value = await fn.apply(store, msg.args);
    parentPort!.postMessage({ id: msg.id, ok: true, value }, transferOf(value));
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: errorOf(err) });
  }
});
