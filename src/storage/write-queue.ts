import type { StorageMetrics } from './metrics.js';
import { storageError } from './failures.js';
import type { AlertRecord, ResultRow, SessionRecord, Store, WriteBatch } from './types.js';

export interface WriteQueueOptions {
  /** Rows waiting (all kinds); beyond, new rows are dropped and counted. */
  maxQueueRows: number;
  /** Rows per transaction at most. */
  batchRows: number;
  /** A batch goes at the latest this long after its first row. */
  flushIntervalMs: number;
  /** Retry delays after a failed write double from flushIntervalMs up to this. */
  maxRetryDelayMs: number;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

type Kind = 'session' | 'end' | 'result' | 'alert';

/**
 * The only path from streaming to storage: `push*` append to bounded in-memory lists and return at once; a timer
 * writes them in batches (one transaction each). A slow or failing database therefore never delays a result to a
 * client: while writes fail the lists grow to `maxQueueRows` and further rows are dropped (counted per kind, logged
 * once per outage), and a failed batch is retried with backoff so storage catches up when the database returns.
 * Migrations that could not run at start (database down) are retried before the first write.
 */
export class WriteQueue {
  private sessions: SessionRecord[] = [];
  private ends: WriteBatch['ends'] = [];
  private results: ResultRow[] = [];
  private alerts: AlertRecord[] = [];
  /** The batch being written (still readable for a late joiner's replay). */
  private inFlight: WriteBatch | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryDelayMs = 0;
  private failing = false;
  private droppedInOutage = 0;
  private closed = false;

  constructor(private readonly store: Store, private migrated: boolean, private readonly metrics: StorageMetrics, private readonly opts: WriteQueueOptions) {
    this.metrics.up.set(migrated ? 1 : 0);
    if (!migrated) this.schedule(0);
  }

  get depth(): number {
    return this.sessions.length + this.ends.length + this.results.length + this.alerts.length;
  }

  pushSession(s: SessionRecord): void {
    if (this.admit('session')) this.sessions.push(s);
  }

  pushEnd(e: WriteBatch['ends'][number]): void {
    if (this.admit('end')) this.ends.push(e);
  }

  pushResult(r: ResultRow): void {
    if (this.admit('result')) this.results.push(r);
  }

  pushAlert(a: AlertRecord): void {
    if (this.admit('alert')) this.alerts.push(a);
  }

  /** Results of `sessionId` not yet known to be in the database (being written or waiting), in hop order. */
  unwritten(sessionId: string): ResultRow[] {
    const mine = (rows: ResultRow[]) => rows.filter((r) => r.sessionId === sessionId);
    return [...mine(this.inFlight?.results ?? []), ...mine(this.results)];
  }

  /** Drops every waiting row of a session (it is being erased); returns when no batch is being written. */
  async discard(sessionId: string): Promise<void> {
    const before = this.depth;
    this.sessions = this.sessions.filter((s) => s.id !== sessionId);
    this.results = this.results.filter((r) => r.sessionId !== sessionId);
    this.alerts = this.alerts.filter((a) => a.sessionId !== sessionId);
    this.ends = this.ends.filter((e) => e.id !== sessionId);
    this.metrics.queueRows.dec(before - this.depth);
    while (this.inFlight) await new Promise((r) => setTimeout(r, 5));
  }

  private admit(kind: Kind): boolean {
    if (this.closed) return false;
    if (this.depth >= this.opts.maxQueueRows) {
      this.metrics.rowsDropped.inc({ kind });
      if (this.droppedInOutage++ === 0) this.opts.log('warn', `storage queue full (${this.opts.maxQueueRows} rows): dropping rows until ${this.store.where} keeps up`);
      return false;
    }
    this.metrics.queueRows.inc();
    if (this.depth + 1 >= this.opts.batchRows) this.schedule(0);
    else this.schedule(this.opts.flushIntervalMs);
    return true;
  }

  private schedule(delayMs: number): void {
    if (this.inFlight || this.closed) return;
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, Math.max(delayMs, this.retryDelayMs));
    this.timer.unref();
  }

  private take(): WriteBatch {
    const n = this.opts.batchRows;
    const batch: WriteBatch = { sessions: this.sessions.splice(0, n), results: [], alerts: [], ends: [] };
    let room = n - batch.sessions.length;
    batch.results = this.results.splice(0, Math.max(room, 0));
    room -= batch.results.length;
    batch.alerts = this.alerts.splice(0, Math.max(room, 0));
    room -= batch.alerts.length;
    // An end goes only with (or after) its session's last results: never before rows of that session still waiting.
    const waiting = new Set(this.results.map((r) => r.sessionId));
    const ready = this.ends.filter((e) => !waiting.has(e.id)).slice(0, Math.max(room, 0));
    this.ends = this.ends.filter((e) => !ready.includes(e));
    batch.ends = ready;
    return batch;
  }

  private giveBack(batch: WriteBatch): void {
    this.sessions = [...batch.sessions, ...this.sessions];
    this.results = [...batch.results, ...this.results];
    this.alerts = [...batch.alerts, ...this.alerts];
    this.ends = [...batch.ends, ...this.ends];
  }

  /** Writes everything waiting (one batch after another); resolves when the lists are empty or a write failed. */
  async flush(): Promise<void> {
    if (this.inFlight) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    try {
      if (!this.migrated) {
        await this.store.migrate();
        this.migrated = true;
        this.opts.log('info', `storage ${this.store.where} migrated`);
      }
      while (this.depth > 0) {
        const batch = this.take();
        const rows = batch.sessions.length + batch.results.length + batch.alerts.length + batch.ends.length;
        if (rows === 0) break;
        this.inFlight = batch;
        const t0 = performance.now();
        try {
          await this.store.writeBatch(batch);
        } catch (err) {
          this.giveBack(batch);
          throw err;
        } finally {
          this.inFlight = null;
        }
        this.metrics.writeMs.observe(performance.now() - t0);
        this.metrics.queueRows.dec(rows);
        this.metrics.rowsWritten.inc({ kind: 'session' }, batch.sessions.length);
        this.metrics.rowsWritten.inc({ kind: 'result' }, batch.results.length);
        this.metrics.rowsWritten.inc({ kind: 'alert' }, batch.alerts.length);
        this.metrics.rowsWritten.inc({ kind: 'end' }, batch.ends.length);
      }
      this.recovered();
    } catch (err) {
      this.failed(err);
    }
    if (this.depth > 0 || !this.migrated) this.schedule(this.opts.flushIntervalMs);
  }

  private recovered(): void {
    this.metrics.up.set(1);
    this.retryDelayMs = 0;
    if (this.failing) this.opts.log('info', `storage ${this.store.where} writes again; ${this.droppedInOutage} rows were dropped meanwhile`);
    this.failing = false;
    this.droppedInOutage = 0;
  }

  private failed(err: unknown): void {
    this.metrics.up.set(0);
    this.metrics.writeFailures.inc();
    this.retryDelayMs = Math.min(this.opts.maxRetryDelayMs, Math.max(this.opts.flushIntervalMs, this.retryDelayMs * 2));
    // One log line per outage, not one per retry.
    if (!this.failing) {
      const e = storageError(err, this.store.where);
      this.opts.log(e.transient ? 'warn' : 'error', `storage write failed; retrying every <= ${this.opts.maxRetryDelayMs} ms: ${e.message}`);
    }
    this.failing = true;
  }

  /** Stops taking rows and writes what is left, for at most `graceMs`; counts what could not be written. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const deadline = Date.now() + graceMs;
    while ((this.depth > 0 || this.inFlight) && Date.now() < deadline) {
      if (this.inFlight) await new Promise((r) => setTimeout(r, 5));
      else {
        await this.flush();
        if (this.depth > 0) await new Promise((r) => setTimeout(r, Math.min(this.retryDelayMs || 10, Math.max(0, deadline - Date.now()))));
      }
      if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    }
    if (this.depth > 0) {
      this.opts.log('error', `storage closed with ${this.depth} rows unwritten (${this.store.where} did not take them within ${graceMs} ms)`);
      this.metrics.rowsDropped.inc({ kind: 'result' }, this.results.length);
    }
  }
}
