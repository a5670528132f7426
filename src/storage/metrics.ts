import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Storage metrics, on the server's registry (summed over event loops like the others). */
export function createStorageMetrics(registry: Registry) {
  return {
    queueRows: new Gauge({ name: 'emostream_storage_queue_rows', help: 'Rows (results, session starts/ends, alerts) waiting to be written', registers: [registry] }),
    writeMs: new Histogram({ name: 'emostream_storage_write_ms', help: 'Time of one batch write (ms)', buckets: [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000], registers: [registry] }),
    rowsWritten: new Counter({ name: 'emostream_storage_rows_written_total', help: 'Rows written to storage', labelNames: ['kind'], registers: [registry] }),
    rowsDropped: new Counter({ name: 'emostream_storage_rows_dropped_total', help: 'Rows never written because the queue was full', labelNames: ['kind'], registers: [registry] }),
    writeFailures: new Counter({ name: 'emostream_storage_write_failures_total', help: 'Batch writes that failed (retried)', registers: [registry] }),
    up: new Gauge({ name: 'emostream_storage_up', help: '1 when the last write or migration succeeded', registers: [registry], aggregator: 'min' }),
  };
}

export type StorageMetrics = ReturnType<typeof createStorageMetrics>;
