import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseProtocols, STATUS_TEXT, type Transport, type TransportHooks, type TransportLimits, type TransportTls } from './transport.js';

/** node:http + ws: the portable fallback transport, same routes and WebSocket semantics as uWS. */
export function createWsTransport(hooks: TransportHooks, limits: TransportLimits, tls?: TransportTls): Transport {
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();
  let server: Server | null = null;

  const onHttp = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const limit = hooks.bodyLimit(method, url.pathname);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: `request body over ${limit} bytes` }));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      hooks.http({ method, path: url.pathname, query: url.searchParams, headers, body: Buffer.concat(chunks), remoteAddress: req.socket.remoteAddress ?? '' }).then((out) => {
        res.writeHead(out.status, out.headers ?? {});
        res.end(out.body ?? '');
      }, () => {
        res.writeHead(500).end();
      });
    });
    req.on('error', () => res.destroy());
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The decision may take a moment (credentials): a peer resetting meanwhile must not raise an unhandled error.
    socket.on('error', () => socket.destroy());
    void Promise.resolve().then(() => decideUpgrade(req)).then((decision) => acceptUpgrade(req, socket, head, decision), () => {
      acceptUpgrade(req, socket, head, { accept: false, status: 500, body: 'internal error' });
    });
  };

  const decideUpgrade = (req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return hooks.upgrade({ path: url.pathname, query: url.searchParams, protocols: parseProtocols(headers['sec-websocket-protocol']), headers, remoteAddress: req.socket.remoteAddress ?? '' });
  };

  const acceptUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, decision: Awaited<ReturnType<TransportHooks['upgrade']>>) => {
    if (socket.destroyed) return;
    if (!decision.accept) {
      const hdrs = Object.entries({ 'content-type': 'text/plain', ...decision.headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${decision.status} ${STATUS_TEXT[decision.status] ?? 'Rejected'}\r\n${hdrs}Content-Length: ${Buffer.byteLength(decision.body)}\r\nConnection: close\r\n\r\n${decision.body}`);
      return;
    }
    // ws picks the subprotocol through handleProtocols; tell it which one the server chose for this request.
    (req as IncomingMessage & { emoProtocol?: string }).emoProtocol = decision.protocol;
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      let closed = false;
      let idle: NodeJS.Timeout | null = null;
      const touch = () => {
        if (idle) clearTimeout(idle);
        idle = setTimeout(() => ws.close(1001, 'idle timeout'), limits.idleTimeoutS * 1000);
      };
      touch();
      // Like uWS's sendPingsAutomatically: a quiet but alive peer (a subscriber) answers pings and stays connected.
      const pinger = setInterval(() => { if (ws.readyState === ws.OPEN) ws.ping(); }, (limits.idleTimeoutS * 1000) / 3);
      ws.on('pong', touch);
      const remote = req.socket.remoteAddress ?? '';
      const handlers = decision.open({
        send: (data, binary) => {
          if (closed || ws.readyState !== ws.OPEN) return false;
          ws.send(data, { binary });
          return true;
        },
        bufferedBytes: () => ws.bufferedAmount,
        close: (code, reason) => {
          if (closed) return;
          ws.close(code, reason.slice(0, 120));
          // A peer that stopped reading never completes the closing handshake: do not wait for it.
          setTimeout(() => ws.terminate(), 5000).unref();
        },
        remoteAddress: remote,
      });
      ws.on('message', (data, isBinary) => {
        touch();
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        handlers.onMessage(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'), isBinary);
      });
      ws.on('close', (code) => {
        closed = true;
        if (idle) clearTimeout(idle);
        clearInterval(pinger);
        sockets.delete(ws);
        handlers.onClose(code);
      });
      ws.on('error', () => undefined);
    });
  };

  wss.options.handleProtocols = (protocols: Set<string>, req: IncomingMessage) => {
    const chosen = (req as IncomingMessage & { emoProtocol?: string }).emoProtocol;
    return chosen && protocols.has(chosen) ? chosen : false;
  };

  return {
    name: 'ws',
    listen: (host, port) => new Promise<number>((resolve, reject) => {
      server = tls ? createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, onHttp) : createServer(onHttp);
      server.on('upgrade', onUpgrade);
      server.once('error', reject);
      server.listen(port, host, () => {
        const addr = server!.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    }),
    stopAccepting: () => {
      server?.close();
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      sockets.clear();
      server?.closeAllConnections();
      await new Promise<void>((r) => (server && server.listening ? server.close(() => r()) : r()));
      wss.close();
    },
  };
}
