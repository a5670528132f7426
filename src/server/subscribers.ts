import { ERROR_CATALOGUE, CLOSE_NORMAL, closeCodeOf, type ErrorCode } from '../protocol/v1/errors.js';
import { errorMessage, type EndMessage } from '../protocol/v1/messages.js';
import type { WsConnection } from './transport.js';
import type { Metrics } from './metrics.js';
import type { ShardBus } from './shard-bus.js';

/**
 * The one slow-consumer rule, for every message kind to every connection (a session's sender and its subscribers):
 * when `conn` already holds more than `limitBytes` unsent, it is closed with EMO_ERR_SLOW_CONSUMER (4021) instead of
 * being sent more; returns true then. `close` closes it: a sender's session is aborted, which closes its socket.
 */
export function shedIfSlow(
  conn: WsConnection, limitBytes: number, metrics: Metrics, role: 'stream' | 'subscriber',
  close: (code: number, reason: string) => void = (code, reason) => conn.close(code, reason),
): boolean {
  if (conn.bufferedBytes() <= limitBytes) return false;
  metrics.slowConsumers.inc({ role });
  metrics.errors.inc({ code: 'EMO_ERR_SLOW_CONSUMER' });
  close(ERROR_CATALOGUE.EMO_ERR_SLOW_CONSUMER.closeCode, `EMO_ERR_SLOW_CONSUMER: send buffer over ${limitBytes} bytes`);
  return true;
}

/** Ended sessions remembered for a subscription from another loop that arrives just after the end. */
const RECENT_ENDS = 256;

interface EndNote { sid: string; end: EndMessage; code?: ErrorCode }

/**
 * Observers of sessions (`/v1/subscribe?session=ID`). Each result is serialised once and written to every
 * subscriber; one whose unsent backlog passes `maxSendBufferBytes` is closed with EMO_ERR_SLOW_CONSUMER, so a reader
 * that stalls costs a bounded amount of memory and never slows the session or the other subscribers.
 */
export class SubscriberHub {
  private readonly bySession = new Map<string, Set<WsConnection>>();
  private bus: ShardBus | null = null;
  /** Sessions of this loop watched from other loops (server.eventLoops > 1): session id -> those loops. */
  private readonly watchers = new Map<string, Set<number>>();
  /** Sessions of other loops that subscribers here watch: session id -> the loop that holds it. */
  private readonly remote = new Map<string, number>();
  private readonly recentEnds = new Map<string, EndNote>();

  constructor(private readonly maxSendBufferBytes: number, private readonly metrics: Metrics) {}

  /**
   * Joins the other event loops: their subscribers of this loop's sessions get every result and the end over the
   * bus, and this loop's subscribers of theirs likewise. `isOpen` says whether a session is open on this loop.
   */
  attachBus(bus: ShardBus, isOpen: (sessionId: string) => boolean): void {
    this.bus = bus;
    bus.onNote('sub', (body, from) => {
      const sid = String(body);
      if (isOpen(sid)) {
        let set = this.watchers.get(sid);
        if (!set) this.watchers.set(sid, (set = new Set()));
        set.add(from);
        return;
      }
      // Ended between that loop finding it and subscribing: it still hears the end.
      const ended = this.recentEnds.get(sid);
      if (ended) bus.note('end', ended);
    });
    bus.onNote('unsub', (body, from) => {
      const sid = String(body);
      const set = this.watchers.get(sid);
      set?.delete(from);
      if (set && set.size === 0) this.watchers.delete(sid);
    });
    bus.onNote('result', (body) => {
      const { sid, text } = body as { sid: string; text: string };
      if (this.remote.has(sid)) this.fanOut(sid, text);
    });
    bus.onNote('end', (body) => {
      const { sid, end, code } = body as EndNote;
      if (!this.remote.delete(sid)) return;
      this.closeLocal(sid, end, code);
    });
    bus.onNote('loop-gone', (body) => this.loopGone(Number(body)));
  }

  /** Loop `gone` died with its sessions: their subscribers here get EMO_ERR_SESSION_LOST instead of waiting forever. */
  loopGone(gone: number): void {
    for (const [sid, owner] of [...this.remote]) {
      if (owner !== gone) continue;
      this.remote.delete(sid);
      const end: EndMessage = { type: 'end', sessionId: sid, reason: 'error', results: 0, droppedWindows: 0 };
      this.closeLocal(sid, end, 'EMO_ERR_SESSION_LOST');
    }
  }

  /** A subscriber here of a session open on loop `owner` (found with the bus). */
  addRemote(sessionId: string, conn: WsConnection, owner: number): void {
    this.add(sessionId, conn);
    if (!this.remote.has(sessionId)) {
      this.remote.set(sessionId, owner);
      this.bus?.note('sub', sessionId);
    }
  }

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
    if (set && set.size === 0) {
      this.bySession.delete(sessionId);
      if (this.remote.delete(sessionId)) this.bus?.note('unsub', sessionId);
    }
  }

  broadcast(sessionId: string, text: string): void {
    this.fanOut(sessionId, text);
    if (this.watchers.has(sessionId)) this.bus?.note('result', { sid: sessionId, text });
  }

  private fanOut(sessionId: string, text: string): void {
    const set = this.bySession.get(sessionId);
    if (!set) return;
    for (const conn of [...set]) {
      if (shedIfSlow(conn, this.maxSendBufferBytes, this.metrics, 'subscriber')) this.remove(sessionId, conn);
      else conn.send(text, false);
    }
  }

  /** The session is over: every subscriber gets `end` (after an error when it ended badly) and is closed. */
  closeSession(sessionId: string, end: EndMessage, code?: ErrorCode): void {
    if (this.bus) {
      const note: EndNote = { sid: sessionId, end, ...(code ? { code } : {}) };
      this.recentEnds.set(sessionId, note);
      if (this.recentEnds.size > RECENT_ENDS) this.recentEnds.delete(this.recentEnds.keys().next().value!);
      if (this.watchers.delete(sessionId)) this.bus.note('end', note);
    }
    this.closeLocal(sessionId, end, code);
  }

  private closeLocal(sessionId: string, end: EndMessage, code?: ErrorCode): void {
    const set = this.bySession.get(sessionId);
    if (!set) return;
    for (const conn of [...set]) {
      this.remove(sessionId, conn);
      if (code) conn.send(JSON.stringify(errorMessage(code)), false);
      conn.send(JSON.stringify(end), false);
      conn.close(code ? closeCodeOf(code) : CLOSE_NORMAL, code ?? 'session ended');
    }
  }
}
