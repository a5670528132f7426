import type { Logger } from 'pino';
import type { AlertMessage } from '../protocol/v1/messages.js';
import type { Metrics } from '../server/metrics.js';
import type { AlertsConfig } from './config.js';
import { AlertEvaluator } from './evaluator.js';
import { WebhookDispatcher } from './webhooks.js';

export type AlertListener = (alert: AlertMessage) => void;

/**
 * The server's alerting: one evaluator per session from the configured rules, and every alert fired handed to the
 * webhooks and to the listeners (`onAlert`, e.g. storage). Listeners run synchronously on the streaming path, so they
 * must only queue; one that throws is logged and the others still run.
 */
export class Alerting {
  private readonly listeners: AlertListener[] = [];
  private readonly webhooks: WebhookDispatcher | null;

  constructor(private readonly config: Readonly<AlertsConfig>, private readonly metrics: Metrics, private readonly log: Logger) {
    const w = config.webhooks;
    this.webhooks = w.urls.length === 0 ? null : new WebhookDispatcher(w, {
      attempt: (result) => metrics.webhookAttempts.inc({ result }),
      delivered: () => metrics.webhookDelivered.inc(),
      deadLetter: (reason, d) => {
        metrics.webhookDeadLetters.inc({ reason });
        log.warn({ url: d.url, rule: d.alert.rule, sessionId: d.alert.sessionId, attempts: d.attempts, reason, detail: d.detail }, 'webhook delivery given up (dead letter)');
      },
      dropped: () => {
        metrics.webhookDropped.inc();
        log.warn({ maxQueue: w.maxQueue }, 'webhook queue full; alert delivery dropped');
      },
      depth: (n) => metrics.webhookQueueDepth.set(n),
    });
  }

  /** A fresh evaluator for a new session, or null when no rule is configured. */
  evaluator(): AlertEvaluator | null {
    return this.config.rules.length > 0 ? new AlertEvaluator(this.config.rules) : null;
  }

  /** Adds a listener for every alert this event loop fires (after it went to the session and its subscribers). */
  onAlert(listener: AlertListener): void {
    this.listeners.push(listener);
  }

  publish(alert: AlertMessage): void {
    this.metrics.alerts.inc({ kind: alert.kind });
    this.log.info({ sessionId: alert.sessionId, rule: alert.rule, hop: alert.hop, value: alert.value }, `alert: ${alert.message}`);
    this.webhooks?.send(alert);
    for (const l of this.listeners) {
      try {
        l(alert);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err), rule: alert.rule }, 'alert listener failed');
      }
    }
  }

  /** Gives queued webhooks up to `graceMs` (server shutdown). */
  async close(graceMs: number): Promise<void> {
    await this.webhooks?.close(graceMs);
  }
}
