import { randomUUID } from 'node:crypto';
import type { AlertMessage } from '../protocol/v1/messages.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from './signature.js';
import type { WebhookConfig } from './config.js';

/** Why an attempt failed; the dead-letter reason is that of the last attempt. */
export type AttemptFailure = 'timeout' | 'network' | 'http-5xx' | 'http-4xx' | 'redirect' | 'shutdown';

export interface WebhookObserver {
  attempt(result: 'ok' | AttemptFailure): void;
  delivered(): void;
  deadLetter(reason: AttemptFailure, delivery: { url: string; alert: AlertMessage; attempts: number; detail: string }): void;
  /** A delivery refused because the queue was full. */
  dropped(): void;
  depth(n: number): void;
}

interface Delivery {
  id: string;
  url: string;
  alert: AlertMessage;
  attempts: number;
}

/** The JSON body POSTed per alert and URL. `timestamp` (Unix seconds) is inside the signed body so it cannot be replaced. */
export interface WebhookBody {
  /** The same for every attempt of one alert to one URL: receivers de-duplicate retries by it. */
  id: string;
  timestamp: number;
  attempt: number;
  alert: AlertMessage;
}

/** Failures worth another try: the target may be back later. A redirect or another 4xx will not change by itself. */
const RETRIED: ReadonlySet<AttemptFailure> = new Set(['timeout', 'network', 'http-5xx']);

/** A URL as logged: origin and path only (a query may hold a token). */
export const urlForLog = (url: string): string => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

/**
 * Sends every alert as a signed JSON POST to each configured URL, off the streaming path: `send` only queues (O(1),
 * never throws, never waits). Bounded: deliveries waiting, in flight or between retries number at most `maxQueue`;
 * beyond, a new one is dropped and counted. At most `maxConcurrent` POSTs run at once, each bounded by `timeoutMs`.
 * Timeouts, network errors and 5xx are retried with exponential backoff and full jitter up to `maxAttempts`; a
 * redirect is not followed (the signed alert would go to a host nobody configured) and, like another 4xx, goes
 * straight to the dead letters, which are counted and logged.
 */
export class WebhookDispatcher {
  private readonly ready: Delivery[] = [];
  private readonly backoff = new Map<NodeJS.Timeout, Delivery>();
  private inFlight = 0;
  private closing = false;
  private readonly stop = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly config: WebhookConfig, private readonly observer: WebhookObserver, private readonly random: () => number = Math.random) {}

  get depth(): number {
    return this.ready.length + this.backoff.size + this.inFlight;
  }

  send(alert: AlertMessage): void {
    if (this.closing) return;
    for (const url of this.config.urls) {
      if (this.depth >= this.config.maxQueue) {
        this.observer.dropped();
        continue;
      }
      this.ready.push({ id: randomUUID(), url, alert, attempts: 0 });
    }
    this.changed();
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.config.maxConcurrent && this.ready.length > 0) {
      const d = this.ready.shift()!;
      this.inFlight++;
      void this.attempt(d).finally(() => {
        this.inFlight--;
        this.changed();
        this.pump();
      });
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    d.attempts++;
    const body: WebhookBody = { id: d.id, timestamp: Math.floor(Date.now() / 1000), attempt: d.attempts, alert: d.alert };
    const raw = JSON.stringify(body);
    let failure: AttemptFailure;
    let detail: string;
    // An own timer rather than AbortSignal.any([AbortSignal.timeout()]): on Node 20 such a combined timeout signal
    // can be garbage-collected and never fire, leaving a hanging target's request open for good.
    const abort = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => { timedOut = true; abort.abort(); }, this.config.timeoutMs);
    const onStop = () => abort.abort();
    this.stop.signal.addEventListener('abort', onStop);
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        body: raw,
        redirect: 'manual',
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'emostream-webhook/1',
          [SIGNATURE_HEADER]: signBody(this.config.secret, raw),
          [TIMESTAMP_HEADER]: String(body.timestamp),
          [DELIVERY_HEADER]: d.id,
        },
      });
      // Only the status matters; the body is dropped so the connection is freed.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        this.observer.attempt('ok');
        this.observer.delivered();
        return;
      }
      failure = res.status >= 300 && res.status < 400 ? 'redirect' : res.status >= 500 || res.status === 408 || res.status === 429 ? 'http-5xx' : 'http-4xx';
      detail = `HTTP ${res.status}${failure === 'redirect' ? ` to ${res.headers.get('location') ?? '(no location)'} (redirects are not followed)` : ''}`;
    } catch (err) {
      failure = this.stop.signal.aborted ? 'shutdown' : timedOut ? 'timeout' : 'network';
      detail = failure === 'timeout' ? `no answer within ${this.config.timeoutMs} ms` : String((err as { cause?: unknown }).cause ?? err);
    } finally {
      clearTimeout(deadline);
      this.stop.signal.removeEventListener('abort', onStop);
    }
    this.observer.attempt(failure);
    if (!RETRIED.has(failure) || d.attempts >= this.config.maxAttempts || this.stop.signal.aborted) {
      this.observer.deadLetter(failure, { url: urlForLog(d.url), alert: d.alert, attempts: d.attempts, detail });
      return;
    }
    const capMs = Math.min(this.config.backoffMaxMs, this.config.backoffBaseMs * 2 ** (d.attempts - 1));
    const timer = setTimeout(() => {
      this.backoff.delete(timer);
      this.ready.push(d);
      this.pump();
    }, this.random() * capMs);
    this.backoff.set(timer, d);
  }

  private changed(): void {
    this.observer.depth(this.depth);
    if (this.depth === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Stops taking alerts and gives the queue up to `graceMs` to empty (retries keep their schedule); what is still
   * queued then is aborted and counted as dead letters (reason `shutdown`).
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.depth > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
    }
    for (const [timer, d] of this.backoff) {
      clearTimeout(timer);
      this.observer.deadLetter('shutdown', { url: urlForLog(d.url), alert: d.alert, attempts: d.attempts, detail: 'server stopped before the next retry' });
    }
    this.backoff.clear();
    for (const d of this.ready.splice(0)) this.observer.deadLetter('shutdown', { url: urlForLog(d.url), alert: d.alert, attempts: d.attempts, detail: 'server stopped before it was sent' });
    this.stop.abort();
    if (this.inFlight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    this.changed();
  }
}
