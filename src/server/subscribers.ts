import { ERROR_CATALOGUE, CLOSE_NORMAL, type ErrorCode } from '../protocol/v1/errors.js';
import { errorMessage, type EndMessage } from '../protocol/v1/messages.js';
import type { WsConnection } from './transport.js';
import type { Metrics } from './metrics.js';
import type { ClusterBus } from '../cluster/bus.js';

/**
 * The one slow-consumer rule, for every message kind to every connection: when `conn` already holds more than
 * `limitBytes` unsent, it is closed with EMO_ERR_SLOW_CONSUMER (4021) instead of being sent more; returns true then.
 */
export function shedIfSlow(conn: WsConnection, limitBytes: number, metrics: Metrics, role: 'stream' | 'subscriber'): boolean {
  if (conn.bufferedBytes() <= limitBytes) return false;
  metrics.slowConsumers.inc({ role });
  metrics.errors.inc({ code: 'EMO_ERR_SLOW_CONSUMER' });
  conn.close(ERROR_CATALOGUE.EMO_ERR_SLOW_CONSUMER.closeCode, `EMO_ERR_SLOW_CONSUMER: send buffer over ${limitBytes} bytes`);
  return true;
}

/** How long a subscription waits for the node holding the session to confirm it (it answers at once when alive). */
const REMOTE_SUBSCRIBE_MS = 2000;

interface EndNote { sid: string; end: EndMessage; code?: ErrorCode }

/**
 * Observers of sessions (`/v1/subscribe?session=ID`). Each result is serialised once and written to every
 * subscriber; one whose unsent backlog passes `maxSendBufferBytes` is closed with EMO_ERR_SLOW_CONSUMER, so a reader
 * that stalls costs a bounded amount of memory and never slows the session or the other subscribers.
 */
export class SubscriberHub {
  private readonly bySession = new Map<string, Set<WsConnection>>();
  private bus: ClusterBus | null = null;
  /** Sessions of this node watched from other nodes (src/cluster): session id -> those nodes. */
  private readonly watchers = new Map<string, Set<string>>();
  /** Sessions of other nodes that subscribers here watch: session id -> the node that holds it. */
  private readonly remote = new Map<string, string>();

  constructor(private readonly maxSendBufferBytes: number, private readonly metrics: Metrics) {}

  /**
   * Joins the cluster: other nodes' subscribers of this node's sessions get every result and the end over the bus
   * (sent only to the nodes that asked), and this node's subscribers of theirs likewise. `isOpen` says whether a
   * session is open here.
   */
  attachBus(bus: ClusterBus, isOpen: (sessionId: string) => boolean): void {
    this.bus = bus;
    // Answered (not just noted) so the subscriber hears `subscribed` only once every later result will reach it.
    bus.answer('sub', (body, from) => {
      const sid = String(body);
      if (!isOpen(sid)) return false;
      let set = this.watchers.get(sid);
      if (!set) this.watchers.set(sid, (set = new Set()));
      set.add(from);
      return true;
    });
    bus.on('unsub', (body, from) => {
      const sid = String(body);
      const set = this.watchers.get(sid);
      set?.delete(from);
      if (set && set.size === 0) this.watchers.delete(sid);
    });
    bus.on('result', (body) => {
      const { sid, text } = body as { sid: string; text: string };
      if (this.remote.has(sid)) this.fanOut(sid, text);
    });
    bus.on('end', (body) => {
      const { sid, end, code } = body as EndNote;
      if (!this.remote.delete(sid)) return;
      this.closeLocal(sid, end, code);
    });
    bus.onNodeGone((node) => this.nodeGone(node));
  }

  /** Node `gone` died with its sessions: their subscribers here get EMO_ERR_SESSION_LOST instead of waiting forever. */
  nodeGone(gone: string): void {
    for (const [sid, set] of [...this.watchers]) {
      set.delete(gone);
      if (set.size === 0) this.watchers.delete(sid);
    }
    for (const [sid, owner] of [...this.remote]) {
      if (owner !== gone) continue;
      this.remote.delete(sid);
      const end: EndMessage = { type: 'end', sessionId: sid, reason: 'error', results: 0, droppedWindows: 0 };
      this.closeLocal(sid, end, 'EMO_ERR_SESSION_LOST');
    }
  }

  /**
   * A subscriber here of a session open on node `owner` (found in the directory). Resolves false when that node does
   * not hold it open (it ended meanwhile) or does not answer; true once the subscription is in place there, so every
   * result after the caller's `subscribed` reaches `conn`.
   */
  async addRemote(sessionId: string, conn: WsConnection, owner: string): Promise<boolean> {
    if (!this.bus) return false;
    if (this.remote.get(sessionId) !== owner) {
      const [ok] = await this.bus.ask<boolean>([owner], 'sub', sessionId, REMOTE_SUBSCRIBE_MS);
      if (!ok) return false;
      this.remote.set(sessionId, owner);
    }
    this.add(sessionId, conn);
    return true;
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
      const owner = this.remote.get(sessionId);
      if (owner !== undefined && this.remote.delete(sessionId)) this.bus?.send(owner, 'unsub', sessionId);
    }
  }

  broadcast(sessionId: string, text: string): void {
    this.fanOut(sessionId, text);
    const nodes = this.watchers.get(sessionId);
    if (nodes) for (const node of nodes) this.bus?.send(node, 'result', { sid: sessionId, text });
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
      const nodes = this.watchers.get(sessionId);
      this.watchers.delete(sessionId);
      if (nodes) for (const node of nodes) this.bus.send(node, 'end', note);
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
      conn.close(code ? ERROR_CATALOGUE[code].closeCode : CLOSE_NORMAL, code ?? 'session ended');
    }
  }
}
