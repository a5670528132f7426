import { createRequire } from 'node:module';
import type * as UWS from '@trufflesuite/uws-js-unofficial';
import { parseProtocols, STATUS_TEXT, type Transport, type TransportHooks, type TransportLimits, type TransportTls, type WsHandlers } from './transport.js';

type UwsModule = typeof UWS;

/** Loads the native uWebSockets.js binding; throws (with the reason) where no binary fits this platform/Node ABI. */
export function loadUws(): UwsModule {
  const require = createRequire(import.meta.url);
  const mod = require('@trufflesuite/uws-js-unofficial') as UwsModule;
  if (typeof mod.App !== 'function') throw new Error('uWebSockets.js binding has no App()');
  return mod;
}

interface UserData {
  handlers: WsHandlers | null;
  open: ((conn: import('./transport.js').WsConnection) => WsHandlers) | null;
  closed: boolean;
  remote: string;
}

/** uWebSockets.js transport: HTTP routes and WebSockets on one port, no per-message copies beyond one per frame. */
export function createUwsTransport(hooks: TransportHooks, limits: TransportLimits, uws: UwsModule = loadUws(), tls?: TransportTls): Transport {
  const app = tls ? uws.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile }) : uws.App();
  let listenSocket: UWS.us_listen_socket | null = null;
  const open = new Set<UWS.WebSocket<UserData>>();

  app.ws<UserData>('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: limits.maxMessageBytes,
    idleTimeout: limits.idleTimeoutS,
    maxBackpressure: limits.maxBackpressureBytes,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      // Everything is read from `req` now: it is gone once this callback returns, and the decision may come later.
      const path = req.getUrl();
      const query = new URLSearchParams(req.getQuery() ?? '');
      const headers: Record<string, string> = {};
      req.forEach((k, v) => { headers[k] = v; });
      const key = headers['sec-websocket-key'] ?? '';
      const extensions = headers['sec-websocket-extensions'] ?? '';
      const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
      let aborted = false;
      res.onAborted(() => { aborted = true; });
      const answer = (decision: Awaited<ReturnType<TransportHooks['upgrade']>>) => {
        if (aborted) return;
        res.cork(() => {
          if (!decision.accept) {
            res.writeStatus(`${decision.status} ${STATUS_TEXT[decision.status] ?? 'Rejected'}`);
            for (const [k, v] of Object.entries({ 'content-type': 'text/plain', ...decision.headers })) res.writeHeader(k, v);
            res.end(decision.body);
            return;
          }
          res.upgrade<UserData>({ handlers: null, open: decision.open, closed: false, remote }, key, decision.protocol ?? '', extensions, context);
        });
      };
      Promise.resolve(hooks.upgrade({ path, query, protocols: parseProtocols(headers['sec-websocket-protocol']), headers, remoteAddress: remote }))
        .then(answer, () => answer({ accept: false, status: 500, body: 'internal error' }));
    },
    open: (ws) => {
      open.add(ws);
      const data = ws.getUserData();
      data.handlers = data.open!({
        send: (msg, binary) => {
          if (data.closed) return false;
          ws.cork(() => ws.send(msg, binary, false));
          return true;
        },
        bufferedBytes: () => (data.closed ? 0 : ws.getBufferedAmount()),
        close: (code, reason) => {
          if (data.closed) return;
          data.closed = true;
          ws.end(code, reason.slice(0, 120));
        },
        remoteAddress: data.remote,
      });
      data.open = null;
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      if (data.closed || !data.handlers) return;
      // uWS reuses the ArrayBuffer after this callback returns: copy once.
      const payload = isBinary ? new Uint8Array(message.slice(0)) : Buffer.from(message).toString('utf8');
      data.handlers.onMessage(payload, isBinary);
    },
    close: (ws, code) => {
      open.delete(ws);
      const data = ws.getUserData();
      data.closed = true;
      data.handlers?.onClose(code);
    },
  });

  app.any('/*', (res, req) => {
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const headers: Record<string, string> = {};
    req.forEach((k, v) => { headers[k] = v; });
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
    const limit = hooks.bodyLimit(method, path);
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    const chunks: Buffer[] = [];
    let size = 0;
    const respond = (status: number, hdrs: Record<string, string>, body: string | Uint8Array) => {
      if (aborted) return;
      res.cork(() => {
        res.writeStatus(`${status} ${STATUS_TEXT[status] ?? ''}`.trim());
        for (const [k, v] of Object.entries(hdrs)) res.writeHeader(k, v);
        res.end(body);
      });
    };
    const finish = () => {
      hooks.http({ method, path, query, headers, body: Buffer.concat(chunks), remoteAddress })
        .then((out) => respond(out.status, out.headers ?? {}, out.body ?? ''), () => respond(500, {}, ''));
    };
    if (method === 'GET' || method === 'HEAD' || (headers['content-length'] === '0' && !headers['transfer-encoding'])) {
      finish();
      return;
    }
    res.onData((chunk, isLast) => {
      if (aborted) return;
      size += chunk.byteLength;
      if (size > limit) {
        aborted = true;
        res.cork(() => {
          res.writeStatus('413 Payload Too Large').writeHeader('content-type', 'application/json').end(JSON.stringify({ error: `request body over ${limit} bytes` }), true);
        });
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) finish();
    });
  });

  return {
    name: 'uws',
    listen: (host, port) => new Promise<number>((resolve, reject) => {
      app.listen(host, port, (token) => {
        if (!token) {
          reject(new Error(`uWebSockets.js could not listen on ${host}:${port}`));
          return;
        }
        listenSocket = token;
        resolve(uws.us_socket_local_port(token));
      });
    }),
    stopAccepting: () => {
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      listenSocket = null;
    },
    close: async () => {
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      listenSocket = null;
      for (const ws of [...open]) {
        const d = ws.getUserData();
        if (!d.closed) {
          d.closed = true;
          ws.close();
        }
      }
      open.clear();
      (app as unknown as { close?: () => void }).close?.();
    },
  };
}
