import { ProtocolError } from '../protocol/v1/errors.js';
import { errorMessage, type SubscribedMessage } from '../protocol/v1/messages.js';
import { EMOTIONS } from '../protocol/labels.js';
import type { AppConfig } from '../server/config.js';
import type { Metrics } from '../server/metrics.js';
import type { SessionManager } from '../server/session-api.js';
import type { WsConnection, WsHandlers } from '../server/transport.js';
import { rowJson } from './compact.js';
import type { History } from './recorder.js';

/**
 * Stands in for a subscriber's connection while its replay is read: live messages wait here (bounded like a send
 * buffer), then `release` sends those after the replay, leaving out the hops the replay already carried.
 */
class HeldConnection implements WsConnection {
  private held: string[] | null = [];
  private heldBytes = 0;
  private closeAfter: { code: number; reason: string } | null = null;

  constructor(private readonly conn: WsConnection) {}

  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }

  send(data: string | Uint8Array, binary: boolean): boolean {
    if (!this.held) return this.conn.send(data, binary);
    const text = typeof data === 'string' ? data : Buffer.from(data).toString();
    this.held.push(text);
    this.heldBytes += text.length;
    return true;
  }

  /** The hub closes a subscriber whose backlog passes its limit: live messages held here count. */
  bufferedBytes(): number {
    return this.conn.bufferedBytes() + (this.held ? this.heldBytes : 0);
  }

  close(code: number, reason: string): void {
    if (this.held) this.closeAfter = { code, reason };
    else this.conn.close(code, reason);
  }

  /** Sends the held live messages that come after hop `lastHop`, then passes everything through. */
  release(lastHop: number): void {
    const held = this.held ?? [];
    this.held = null;
    for (const text of held) {
      // Only results carry a hop; end and error messages always go.
      const hop = text.startsWith('{"type":"emotion"') ? (JSON.parse(text) as { hop: number }).hop : Infinity;
      if (hop > lastHop) this.conn.send(text, false);
    }
    if (this.closeAfter) this.conn.close(this.closeAfter.code, this.closeAfter.reason);
  }
}

function refuse(conn: WsConnection, metrics: Metrics, err: ProtocolError): WsHandlers {
  metrics.errors.inc({ code: err.code });
  conn.send(JSON.stringify(errorMessage(err.code, err.message)), false);
  conn.close(err.closeCode, err.code);
  return { onMessage: () => undefined, onClose: () => undefined };
}

/**
 * `/v1/subscribe?session=ID&since=HOP`: a late joiner of a live session gets the stored results from HOP on, then the
 * live ones, with no gap and no duplicate: it is attached to the live results (held) in the same tick as the replay
 * takes its snapshot of the rows still queued for writing; the held live results whose hop the replay already sent
 * are left out. A session on another event loop is read after two flush intervals, by when that loop's queue has
 * written what it held when the subscriber attached (while its database keeps up).
 */
export function lateJoinConnection(
  conn: WsConnection, sessionId: string | null, sinceRaw: string, sessions: SessionManager, history: History,
  config: Readonly<AppConfig>, metrics: Metrics,
): WsHandlers {
  const since = Number(sinceRaw);
  if (!sessionId) return refuse(conn, metrics, new ProtocolError('EMO_ERR_UNKNOWN_SESSION', 'missing ?session=ID'));
  if (!/^\d+$/.test(sinceRaw) || !Number.isSafeInteger(since)) {
    return refuse(conn, metrics, new ProtocolError('EMO_ERR_BAD_MESSAGE', `since=${sinceRaw}: expected a hop number >= 0`));
  }
  const held = new HeldConnection(conn);
  let attached = false;
  let closed = false;
  const full = () => sessions.hub.count(sessionId) >= config.server.maxSubscribersPerSession;
  const start = async (waitMs: number) => {
    const replaying = history.replay(sessionId, since, config.storage.maxPageResults, waitMs);
    let replay;
    try {
      replay = await replaying;
    } catch {
      // The store cannot be read: the subscriber still gets the live results, and `replay.results: 0` says none came.
      replay = { fromHop: since, rows: [] };
    }
    if (closed) return;
    const msg: SubscribedMessage = {
      type: 'subscribed', sessionId, windowMs: config.streaming.windowMs, hopMs: config.streaming.hopMs, labels: EMOTIONS,
      replay: { fromHop: replay.fromHop, results: replay.rows.length },
    };
    conn.send(JSON.stringify(msg), false);
    let lastHop = replay.fromHop - 1;
    for (const row of replay.rows) {
      conn.send(rowJson(row), false);
      lastHop = row.hop;
    }
    held.release(lastHop);
  };
  const onMessage = (_data: unknown, isBinary: boolean) => {
    if (isBinary) conn.send(JSON.stringify(errorMessage('EMO_ERR_BAD_MESSAGE', 'subscribers send nothing but may ping; binary ignored')), false);
  };
  const onClose = () => {
    closed = true;
    if (attached) sessions.hub.remove(sessionId, held);
  };
  const local = sessions.get(sessionId);
  if (local?.isOpen) {
    if (full()) return refuse(conn, metrics, new ProtocolError('EMO_ERR_TOO_MANY_SESSIONS', `session ${sessionId} has its maximum of ${config.server.maxSubscribersPerSession} subscribers`));
    sessions.hub.add(sessionId, held);
    attached = true;
    void start(0);
    return { onMessage, onClose };
  }
  void sessions.openElsewhere(sessionId).then(async (owner) => {
    if (closed) return;
    if (full()) return void refuse(conn, metrics, new ProtocolError('EMO_ERR_TOO_MANY_SESSIONS', `session ${sessionId} has its maximum of ${config.server.maxSubscribersPerSession} subscribers`));
    const ok = owner !== null && await sessions.hub.addRemote(sessionId, held, owner);
    if (closed && ok) sessions.hub.remove(sessionId, held);
    if (closed) return;
    if (!ok) return void refuse(conn, metrics, new ProtocolError('EMO_ERR_UNKNOWN_SESSION', `no open session ${sessionId}`));
    attached = true;
    void start(2 * config.storage.flushIntervalMs);
  });
  return { onMessage, onClose };
}
