import { threadEndpoint } from '../runtime/endpoint.js';
import { startTsWorker } from '../runtime/ts-worker.js';
import { ChannelError, WorkerChannel } from '../runtime/worker-channel.js';
import type { ProtocolError } from '../protocol/v1/errors.js';
import { storageError, storageFailure } from './failures.js';
import type { SqliteCall, SqliteWorkerData } from './sqlite-worker.js';
import type { AlertRecord, ResultRow, SessionQuery, SessionRecord, Store, TimelinePage, TimelineQuery, WriteBatch } from './types.js';

/** Calls one store may have outstanding (the write queue in front of it sends one batch at a time). */
const MAX_PENDING_CALLS = 256;

/**
 * The SQLite store run on a worker thread of its own (src/storage/sqlite-worker.ts), so that no SQLite call (a batch
 * of a thousand rows, a WAL checkpoint, a wait on another process's lock) ever blocks the event loop. Calls are
 * messages; errors come back as the catalogue's ProtocolError with the same text. A worker that dies fails its pending calls
 * (retried by the write queue) and is started again on the next call.
 */
export class SqliteThreadStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly channel: WorkerChannel;

  private constructor(readonly where: string, busyTimeoutMs: number) {
    const data: SqliteWorkerData = { path: where, busyTimeoutMs };
    this.channel = new WorkerChannel({
      name: 'SQLite worker',
      maxPending: MAX_PENDING_CALLS,
      respawn: 'lazy',
      spawn: () => threadEndpoint(startTsWorker(new URL('./sqlite-worker.ts', import.meta.url), { workerData: data })),
    });
  }

  /** Opens the file on the worker: a file that cannot be opened or is not a database fails here, with the reason. */
  static async open(path: string, busyTimeoutMs: number): Promise<SqliteThreadStore> {
    const s = new SqliteThreadStore(path, busyTimeoutMs);
    try {
      await s.channel.start();
    } catch (err) {
      await s.channel.close();
      throw s.failure(err);
    }
    return s;
  }

  /** The worker's own storage failure as it was thrown there; the channel's failures as transient ones. */
  private failure(err: unknown): ProtocolError {
    if (!(err instanceof ChannelError)) return storageError(err, this.where);
    if (err.remote) return storageFailure(err.remote.message, err.remote.details.transient === true);
    if (err.kind === 'exited') return storageFailure(`SQLite file ${this.where}: the storage worker stopped (${err.message}); it is restarted on the next write`, true);
    return storageFailure(`SQLite file ${this.where}: ${err.message}`, true);
  }

  private async call<T>(method: SqliteCall['method'], ...args: unknown[]): Promise<T> {
    try {
      return await this.channel.request<T>({ method, args } satisfies SqliteCall);
    } catch (err) {
      throw this.failure(err);
    }
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
    if (this.channel.closed) return;
    if (this.channel.alive) await this.call('close');
    await this.channel.close();
  }
}
