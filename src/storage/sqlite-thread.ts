import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../models/ts-worker.js';
import { storageFailure } from './errors.js';
import type { AlertRecord, ResultRow, SessionQuery, SessionRecord, Store, TimelinePage, TimelineQuery, WriteBatch } from './types.js';

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { message: string; transient: boolean; code?: string } };

/**
 * The SQLite store run on a worker thread of its own (src/storage/sqlite-worker.ts), so that no SQLite call (a batch
 * of a thousand rows, a WAL checkpoint, a wait on another process's lock) ever blocks the event loop. Calls are
 * messages; errors come back as storage failures (ProtocolError) with the same text. A worker that dies fails its pending calls
 * (retried by the write queue) and is started again on the next call.
 */
export class SqliteThreadStore implements Store {
  readonly kind = 'sqlite' as const;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly where: string, private readonly busyTimeoutMs: number) {}

  /** Opens the file on the worker: a file that cannot be opened or is not a database fails here, with the reason. */
  static async open(path: string, busyTimeoutMs: number): Promise<SqliteThreadStore> {
    const s = new SqliteThreadStore(path, busyTimeoutMs);
    await s.start();
    return s;
  }

  private start(): Promise<void> {
    const worker = startTsWorker(new URL('./sqlite-worker.ts', import.meta.url));
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { ready: boolean; error?: { message: string; transient: boolean; code?: string } }) => {
        if (m.ready) {
          worker.on('message', (r: Reply) => this.settle(r));
          resolve();
        } else {
          void worker.terminate();
          this.worker = null;
          reject(storageFailure(m.error!.message, m.error!.transient));
        }
      });
      worker.on('error', (err) => this.died(worker, err, reject));
      worker.on('exit', (code) => this.died(worker, new Error(`SQLite worker exited with code ${code}`), reject));
      worker.postMessage({ init: { path: this.where, busyTimeoutMs: this.busyTimeoutMs } });
    });
  }

  private died(worker: Worker, err: Error, rejectStart: (e: Error) => void): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const e = storageFailure(`SQLite file ${this.where}: the storage worker stopped (${err.message}); it is restarted on the next write`, true);
    rejectStart(e);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(storageFailure(r.error.message, r.error.transient));
  }

  private async call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (!this.worker) await this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.postMessage({ id, method, args });
    });
  }

  migrate(): Promise<void> { return this.call('migrate'); }
  writeBatch(batch: WriteBatch): Promise<void> { return this.call('writeBatch', batch); }
  listSessions(q: SessionQuery): Promise<SessionRecord[]> { return this.call('listSessions', q); }
  getSession(id: string): Promise<SessionRecord | null> { return this.call('getSession', id); }
  timeline(q: TimelineQuery): Promise<ResultRow[]> { return this.call('timeline', q); }
  timelinePage(q: TimelineQuery): Promise<TimelinePage> { return this.call('timelinePage', q); }
  alerts(sessionId: string): Promise<AlertRecord[]> { return this.call('alerts', sessionId); }
  deleteSession(id: string): Promise<boolean> { return this.call('deleteSession', id); }
  purgeBefore(beforeMs: number): Promise<number> { return this.call('purgeBefore', beforeMs); }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.call('close');
    this.worker = null;
    await worker.terminate();
  }
}
