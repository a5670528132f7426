import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];

/** Every Prometheus metric the server exports, on its own registry (several servers can live in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'emostream_' });
  const m = {
    registry,
    sessionsActive: new Gauge({ name: 'emostream_sessions_active', help: 'Streaming sessions open now', registers: [registry] }),
    sessionsTotal: new Counter({ name: 'emostream_sessions_total', help: 'Streaming sessions opened', labelNames: ['transport'], registers: [registry] }),
    subscribersActive: new Gauge({ name: 'emostream_subscribers_active', help: 'Subscribers attached now', registers: [registry] }),
    results: new Counter({ name: 'emostream_results_total', help: 'Emotion results emitted (one per hop per session)', registers: [registry] }),
    droppedWindows: new Counter({ name: 'emostream_dropped_windows_total', help: 'Windows dropped because inference fell behind real time', labelNames: ['reason'], registers: [registry] }),
    errors: new Counter({ name: 'emostream_errors_total', help: 'Error messages sent to clients, by catalogue code', labelNames: ['code'], registers: [registry] }),
    frames: new Counter({ name: 'emostream_frames_total', help: 'Media frames accepted, by kind', labelNames: ['kind'], registers: [registry] }),
    stageLatency: new Histogram({ name: 'emostream_stage_latency_ms', help: 'Server-side latency per stage of each result (ms)', labelNames: ['stage'], buckets: LATENCY_BUCKETS_MS, registers: [registry] }),
    batchSize: new Histogram({ name: 'emostream_batch_size', help: 'Windows per model call', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [registry] }),
    modelInferMs: new Histogram({ name: 'emostream_model_infer_ms', help: 'Time of one batched model call (ms)', labelNames: ['model'], buckets: LATENCY_BUCKETS_MS, registers: [registry] }),
    modelWindowErrors: new Counter({ name: 'emostream_model_window_errors_total', help: 'Windows a model failed on', labelNames: ['model'], registers: [registry] }),
    videoSkipped: new Counter({ name: 'emostream_video_frames_skipped_total', help: 'Video frames not analysed (rate cap or analyzer busy)', registers: [registry] }),
    slowConsumers: new Counter({ name: 'emostream_slow_consumers_total', help: 'Connections closed because their send buffer exceeded the limit', labelNames: ['role'], registers: [registry] }),
    modelAvailable: new Gauge({ name: 'emostream_model_available', help: '1 when the model is loaded and serving', labelNames: ['model', 'provider'], registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
