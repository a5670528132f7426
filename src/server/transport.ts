import type { HttpRequest, HttpResponse } from './routes.js';

/** One WebSocket connection, whichever library carries it. */
export interface WsConnection {
  /** Queues a message; returns false when the connection is closed. */
  send(data: string | Uint8Array, binary: boolean): boolean;
  /** Bytes queued but not yet written to the socket. */
  bufferedBytes(): number;
  close(code: number, reason: string): void;
  readonly remoteAddress: string;
}

export interface WsHandlers {
  onMessage(data: Uint8Array | string, isBinary: boolean): void;
  onClose(code: number): void;
}

export interface UpgradeRequest {
  path: string;
  query: URLSearchParams;
  /** Offered subprotocols (Sec-WebSocket-Protocol). */
  protocols: string[];
  /** Lower-case header names (Authorization, Origin, Host are what access control reads). */
  headers: Record<string, string>;
  remoteAddress: string;
}

export type UpgradeDecision =
  | { accept: true; protocol?: string; open: (conn: WsConnection) => WsHandlers }
  | { accept: false; status: number; body: string; headers?: Record<string, string> };

export interface TransportHooks {
  /** May answer later (credentials are verified asynchronously); the transports keep the request until then. */
  upgrade(req: UpgradeRequest): UpgradeDecision | Promise<UpgradeDecision>;
  http(req: Omit<HttpRequest, 'params'>): Promise<HttpResponse>;
  bodyLimit(method: string, path: string): number;
}

export interface TransportLimits {
  maxMessageBytes: number;
  idleTimeoutS: number;
  /** Past this backlog uWS drops messages; the server closes slow consumers before that. */
  maxBackpressureBytes: number;
}

/** PEM certificate chain and key: the transport then speaks TLS (wss://, https://). */
export interface TransportTls {
  certFile: string;
  keyFile: string;
}

export interface Transport {
  readonly name: 'uws' | 'ws';
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections; open ones stay. */
  stopAccepting(): void;
  /** Closes everything. */
  close(): Promise<void>;
}

export function parseProtocols(header: string | undefined): string[] {
  return (header ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity',
  426: 'Upgrade Required', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};
