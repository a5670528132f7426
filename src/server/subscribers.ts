import { ERROR_CATALOGUE, CLOSE_NORMAL, type ErrorCode } from '../protocol/v1/errors.js';
import { errorMessage, type EndMessage } from '../protocol/v1/messages.js';
import type { WsConnection } from './transport.js';
import type { Metrics } from './metrics.js';

/**
 * Observers of sessions (`/v1/subscribe?session=ID`). Each result is serialised once and written to every
 * subscriber; one whose unsent backlog passes `maxSendBufferBytes` is closed with EMO_ERR_SLOW_CONSUMER, so a reader
 * that stalls costs a bounded amount of memory and never slows the session or the other subscribers.
 */
export class SubscriberHub {
  private readonly bySession = new Map<string, Set<WsConnection>>();

  constructor(private readonly maxSendBufferBytes: number, private readonly metrics: Metrics) {}

  count(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0;
  }

  add(sessionId: string, conn: WsConnection): void {
    let set = this.bySession.get(sessionId);
    if (!set) this.bySession.set(sessionId, (set = new Set()));
    set.add(conn);
    this.metrics.subscribersActive.inc();
  }

  remove(sessionId: string, conn: WsConnection): void {
    const set = this.bySession.get(sessionId);
    if (set?.delete(conn)) this.metrics.subscribersActive.dec();
    if (set && set.size === 0) this.bySession.delete(sessionId);
  }

  broadcast(sessionId: string, text: string): void {
    const set = this.bySession.get(sessionId);
    if (!set) return;
    for (const conn of [...set]) {
      if (conn.bufferedBytes() > this.maxSendBufferBytes) {
        this.metrics.slowConsumers.inc({ role: 'subscriber' });
        this.metrics.errors.inc({ code: 'EMO_ERR_SLOW_CONSUMER' });
        this.remove(sessionId, conn);
        conn.close(ERROR_CATALOGUE.EMO_ERR_SLOW_CONSUMER.closeCode, `EMO_ERR_SLOW_CONSUMER: send buffer over ${this.maxSendBufferBytes} bytes`);
        continue;
      }
      conn.send(text, false);
    }
  }

  /** The session is over: every subscriber gets `end` (after an error when it ended badly) and is closed. */
  closeSession(sessionId: string, end: EndMessage, code?: ErrorCode): void {
    const set = this.bySession.get(sessionId);
    if (!set) return;
    for (const conn of [...set]) {
      this.remove(sessionId, conn);
      if (code) conn.send(JSON.stringify(errorMessage(code)), false);
      conn.send(JSON.stringify(end), false);
      conn.close(code ? ERROR_CATALOGUE[code].closeCode : CLOSE_NORMAL, code ?? 'session ended');
    }
  }
}
