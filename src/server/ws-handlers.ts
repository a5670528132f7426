import { ProtocolError } from '../protocol/v1/errors.js';
import { decodeFrame } from '../protocol/v1/frames.js';
import { errorMessage, parseClientControl, parseHello, type SubscribedMessage } from '../protocol/v1/messages.js';
import { EMOTIONS } from '../protocol/labels.js';
import type { AppConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { OpenSessionOptions, SessionManager } from './session-api.js';
import type { StreamSession, SessionSink } from './session.js';
import { shedIfSlow } from './subscribers.js';
import type { WsConnection, WsHandlers } from './transport.js';

function sendError(conn: WsConnection, metrics: Metrics, err: ProtocolError, close: boolean): void {
  metrics.errors.inc({ code: err.code });
  conn.send(JSON.stringify(errorMessage(err.code, err.message)), false);
  if (close) conn.close(err.closeCode, `${err.code}`);
}

/** Header fields of a frame that failed to decode, when at least that much arrived (for the error message). */
function frameRef(data: Uint8Array): { streamId: number; seq: number } | undefined {
  if (data.byteLength < 8) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { streamId: v.getUint16(2, true), seq: v.getUint32(4, true) };
}

/** `/v1/stream`: hello -> welcome, then binary frames and control messages, `end` -> final result -> close. */
export function streamConnection(
  conn: WsConnection, sessions: SessionManager, config: Readonly<AppConfig>, metrics: Metrics,
  who: Pick<OpenSessionOptions, 'identity' | 'remoteAddress'> = {},
): WsHandlers {
  let session: StreamSession | null = null;
  const limit = config.server.maxSendBufferBytes;
  /** Every message to this client (results, errors, pongs) counts toward the send-buffer limit. */
  const sendText = (text: string): void => {
    if (conn.bufferedBytes() > limit) {
      metrics.slowConsumers.inc({ role: 'stream' });
      const s = session;
      session = null;
      s?.abort('EMO_ERR_SLOW_CONSUMER', `EMO_ERR_SLOW_CONSUMER: send buffer over ${limit} bytes`);
      return;
    }
    conn.send(text, false);
  };
  const sink: SessionSink = {
    send: (msg, serialized) => sendText(serialized ?? JSON.stringify(msg)),
    close: (code, reason) => conn.close(code, reason),
  };
  // A client that connects and never says hello holds a socket for nothing: close it after helloTimeoutMs.
  let helloTimer: NodeJS.Timeout | null = setTimeout(() => {
    helloTimer = null;
    if (!session) sendError(conn, metrics, new ProtocolError('EMO_ERR_BAD_HELLO', `no hello within ${config.server.helloTimeoutMs} ms`), true);
  }, config.server.helloTimeoutMs);
  const clearHello = () => {
    if (helloTimer) clearTimeout(helloTimer);
    helloTimer = null;
  };
  return {
    onMessage(data, isBinary) {
      if (!session) {
        clearHello();
        if (isBinary) {
          sendError(conn, metrics, new ProtocolError('EMO_ERR_BINARY_BEFORE_HELLO', 'binary frame received before hello: send {"type":"hello","protocol":"1.0"} first'), true);
          return;
        }
        try {
          const text = data as string;
          if (text.length > config.server.maxControlBytes) throw new ProtocolError('EMO_ERR_BAD_HELLO', `hello over ${config.server.maxControlBytes} bytes`);
          const hello = parseHello(text);
          session = sessions.openSession({ sink, client: hello.client, transport: 'websocket', ...who, driverState: hello.driverState });
          conn.send(JSON.stringify(session.welcome), false);
        } catch (err) {
          sendError(conn, metrics, err instanceof ProtocolError ? err : new ProtocolError('EMO_ERR_INTERNAL'), true);
        }
        return;
      }
      if (isBinary) {
        const bytes = data as Uint8Array;
        let frame;
        try {
          frame = decodeFrame(bytes, config.server.maxFrameBytes);
        } catch (err) {
          session.fail(err, frameRef(bytes));
          return;
        }
        session.pushFrame(frame);
        return;
      }
      try {
        const text = data as string;
        if (text.length > config.server.maxControlBytes) throw new ProtocolError('EMO_ERR_BAD_MESSAGE', `control message over ${config.server.maxControlBytes} bytes`);
        const msg = parseClientControl(text);
        if (msg.type === 'end') void session.end();
        else sendText(JSON.stringify({ type: 'pong', ...(msg.id !== undefined ? { id: msg.id } : {}) }));
      } catch (err) {
        session.fail(err);
      }
    },
    onClose() {
      clearHello();
      // Vanished mid-stream (no `end`): drop its windows, tell subscribers. After `end` the session finishes itself.
      if (session?.isOpen) session.abort('EMO_ERR_SESSION_LOST');
    },
  };
}

/** `/v1/subscribe?session=ID`: an observer of another session's results (on this event loop or another). */
export function subscribeConnection(conn: WsConnection, sessionId: string | null, sessions: SessionManager, config: Readonly<AppConfig>, metrics: Metrics, driverState = false): WsHandlers {
  const unknown = () => {
    sendError(conn, metrics, new ProtocolError('EMO_ERR_UNKNOWN_SESSION', sessionId ? `no open session ${sessionId}` : 'missing ?session=ID'), true);
  };
  const hello = (id: string) => {
    const msg: SubscribedMessage = { type: 'subscribed', sessionId: id, windowMs: config.streaming.windowMs, hopMs: config.streaming.hopMs, labels: EMOTIONS };
    conn.send(JSON.stringify(msg), false);
  };
  /** At its subscriber limit (counted per event loop): the error is sent and the connection closed. */
  const full = (id: string): boolean => {
    if (sessions.hub.count(id) < config.server.maxSubscribersPerSession) return false;
    sendError(conn, metrics, new ProtocolError('EMO_ERR_TOO_MANY_SESSIONS', `session ${id} has its maximum of ${config.server.maxSubscribersPerSession} subscribers`), true);
    return true;
  };
  const onMessage = (_data: unknown, isBinary: boolean) => {
    if (!isBinary || shedIfSlow(conn, config.server.maxSendBufferBytes, metrics, 'subscriber')) return;
    sendError(conn, metrics, new ProtocolError('EMO_ERR_BAD_MESSAGE', 'subscribers send nothing but may ping; binary ignored'), false);
  };
  const session = sessionId ? sessions.get(sessionId) : undefined;
  if (sessionId && (!session || !session.isOpen) && sessions.cluster) {
    // Not on this node: the kernel or the load balancer may have put the subscriber on another node than the session.
    let closed = false;
    let attached = false;
    void sessions.openElsewhere(sessionId).then(async (owner) => {
      if (closed) return;
      if (owner === null || full(sessionId)) return owner === null ? unknown() : undefined;
      const ok = await sessions.hub.addRemote(sessionId, conn, owner);
      if (closed && ok) sessions.hub.remove(sessionId, conn);
      if (closed) return;
      if (!ok) return unknown();
      attached = true;
      hello(sessionId);
    });
    return {
      onMessage,
      onClose: () => {
        closed = true;
        if (attached) sessions.hub.remove(sessionId, conn);
      },
    };
  }
  if (!session || !session.isOpen) {
    unknown();
    return { onMessage: () => undefined, onClose: () => undefined };
  }
  if (full(session.id)) return { onMessage: () => undefined, onClose: () => undefined };
  sessions.hub.add(session.id, conn);
  if (driverState) session.requestDriverState();
  hello(session.id);
  return { onMessage, onClose: () => sessions.hub.remove(session.id, conn) };
}
