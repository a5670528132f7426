import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

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
    rateLimitedFrames: new Counter({ name: 'emostream_rate_limited_frames_total', help: 'Media frames refused for arriving faster than server.maxRealtimeFactor x real time (reported or not)', registers: [registry] }),
    slowConsumers: new Counter({ name: 'emostream_slow_consumers_total', help: 'Connections closed because their send buffer exceeded the limit', labelNames: ['role'], registers: [registry] }),
    alerts: new Counter({ name: 'emostream_alerts_total', help: 'Alerts fired, by rule kind', labelNames: ['kind'], registers: [registry] }),
    webhookAttempts: new Counter({ name: 'emostream_webhook_attempts_total', help: 'Webhook POSTs, by result (ok, timeout, network, http-5xx, http-4xx, redirect, shutdown)', labelNames: ['result'], registers: [registry] }),
    webhookDelivered: new Counter({ name: 'emostream_webhook_delivered_total', help: 'Alerts delivered to a webhook URL (2xx)', registers: [registry] }),
    webhookDeadLetters: new Counter({ name: 'emostream_webhook_dead_letters_total', help: 'Webhook deliveries given up, by the last failure', labelNames: ['reason'], registers: [registry] }),
    webhookDropped: new Counter({ name: 'emostream_webhook_dropped_total', help: 'Webhook deliveries refused because the queue was full', registers: [registry] }),
    webhookQueueDepth: new Gauge({ name: 'emostream_webhook_queue_depth', help: 'Webhook deliveries waiting, in flight or between retries', registers: [registry] }),
    // Every event loop loads the models: across loops (server.eventLoops) the highest value, not the sum.
    modelAvailable: new Gauge({ name: 'emostream_model_available', help: '1 when the model is loaded and serving', labelNames: ['model', 'provider'], registers: [registry], aggregator: 'max' }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * This loop's own metrics for another event loop's /metrics (server.eventLoops > 1): the server's metrics, not the
 * process-wide defaults (CPU, memory, handles), which every loop of the process reads alike and would be counted N
 * times; the event-loop lag and GC of the loop that answers /metrics stay in.
 */
export async function loopMetricsJson(registry: Registry): Promise<MetricsJson> {
  const all = (await registry.getMetricsAsJSON()) as MetricsJson;
  return all.filter((m) => !m.name.startsWith('emostream_process_') && !m.name.startsWith('emostream_nodejs_'));
}

/** Prometheus text of this loop's registry with the other loops' server metrics summed in (gauges per their aggregator). */
export async function aggregateMetricsText(registry: Registry, others: MetricsJson[]): Promise<string> {
  if (others.length === 0) return registry.metrics();
  const own = (await registry.getMetricsAsJSON()) as MetricsJson;
  return AggregatorRegistry.aggregate([own, ...others]).metrics();
}
