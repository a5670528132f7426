import type { Registry } from 'prom-client';
import type { AppConfig } from '../server/config.js';
import { storageError } from './failures.js';
import { createStorageMetrics } from './metrics.js';
import { History } from './recorder.js';
import { storageTarget, redact } from './target.js';
import type { Store } from './types.js';
import { WriteQueue } from './write-queue.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;

const DAY_MS = 86_400_000;

export interface OpenedHistory {
  history: History;
  close(graceMs: number): Promise<void>;
}

async function openStore(cfg: AppConfig['storage']): Promise<Store | null> {
  const target = storageTarget(cfg.databaseUrl, cfg.dataDir);
  if (target.kind === 'none') return null;
  // Loaded on demand: a server with storage off (or on SQLite) never loads the other driver.
  if (target.kind === 'sqlite') return (await import('./sqlite-thread.js')).SqliteThreadStore.open(target.path, cfg.busyTimeoutMs);
  return new (await import('./postgres.js')).PostgresStore(target.url, { poolSize: cfg.poolSize, timeoutMs: cfg.timeoutMs });
}

/**
 * Opens the configured store (null for `none`), applies migrations and starts the write queue and the daily purge.
 * SQLite problems (file unwritable, not a database, locked) stop the start with a clear message. A PostgreSQL server
 * that cannot be reached does not: streaming starts, rows queue up (bounded) and migrations and writes are retried.
 */
export async function openHistory(config: Readonly<AppConfig>, registry: Registry, log: Log): Promise<OpenedHistory | null> {
  const cfg = config.storage;
  const store = await openStore(cfg);
  if (!store) {
    log('info', 'session history off (storage.databaseUrl=none)');
    return null;
  }
  let migrated = false;
  try {
    await store.migrate();
    migrated = true;
  } catch (err) {
    const e = storageError(err, store.where);
    if (store.kind === 'sqlite' || !e.transient) {
      await store.close().catch(() => undefined);
      throw e;
    }
    log('warn', `storage not reachable at start; streaming goes on and writes are retried: ${e.message}`);
  }
  const metrics = createStorageMetrics(registry);
  const queue = new WriteQueue(store, migrated, metrics, {
    maxQueueRows: cfg.maxQueueRows, batchRows: cfg.batchRows, flushIntervalMs: cfg.flushIntervalMs, maxRetryDelayMs: cfg.maxRetryDelayMs, log,
  });
  const history = new History(store, queue);
  const purge = async () => {
    if (cfg.retentionDays <= 0) return;
    try {
      const n = await store.purgeBefore(Date.now() - cfg.retentionDays * DAY_MS);
      if (n > 0) log('info', `retention: erased ${n} sessions older than ${cfg.retentionDays} days`);
    } catch (err) {
      log('warn', `retention purge failed (retried tomorrow): ${storageError(err, store.where).message}`);
    }
  };
  if (migrated) void purge();
  const purgeTimer = setInterval(() => void purge(), DAY_MS);
  purgeTimer.unref();
  log('info', `session history in ${store.kind === 'postgres' ? redact(store.where) : store.where}`);
  return {
    history,
    close: async (graceMs) => {
      clearInterval(purgeTimer);
      await queue.close(graceMs);
      await store.close();
    },
  };
}
