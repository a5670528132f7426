import WebSocket from 'ws';
import { SUBPROTOCOL, type ServerMessage } from '../../src/protocol/v1/messages.js';

/** A bare WebSocket that records every message and the close: for sending exactly the bytes a test wants. */
export interface Probe {
  ws: WebSocket;
  messages: ServerMessage[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message matching `pred` (already received or future), rejects after timeoutMs. */
  waitFor<T extends ServerMessage>(pred: (m: ServerMessage) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(pred: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
}

export async function probe(url: string, path = '/v1/stream', protocols: string[] = [SUBPROTOCOL]): Promise<Probe> {
  const ws = new WebSocket(url + path, protocols);
  const messages: ServerMessage[] = [];
  const listeners: (() => void)[] = [];
  ws.on('message', (d) => {
    messages.push(JSON.parse(d.toString()) as ServerMessage);
    for (const l of [...listeners]) l();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => {
    resolve({ code, reason: reason.toString() });
    for (const l of [...listeners]) l();
  }));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const waitFor = (pred: (m: ServerMessage) => boolean, timeoutMs = 20_000): Promise<ServerMessage> => new Promise((resolve, reject) => {
    const check = () => {
      const m = messages.find(pred);
      if (m) {
        cleanup();
        resolve(m);
      } else if (ws.readyState === WebSocket.CLOSED) {
        cleanup();
        reject(new Error(`closed without the expected message; got ${JSON.stringify(messages.map((x) => x.type === 'error' ? x.code : x.type))}`));
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out; got ${JSON.stringify(messages.map((x) => x.type === 'error' ? x.code : x.type))}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      const i = listeners.indexOf(check);
      if (i >= 0) listeners.splice(i, 1);
    };
    listeners.push(check);
    check();
  });
  return { ws, messages, closed, waitFor: waitFor as Probe['waitFor'] };
}

export const hello = (protocol = '1.0'): string => JSON.stringify({ type: 'hello', protocol, client: 'test' });

export function isError(code: string) {
  return (m: ServerMessage): boolean => m.type === 'error' && m.code === code;
}

/** A probe on /v1/stream that has said hello and got its welcome. */
export async function helloProbe(url: string): Promise<Probe> {
  const p = await probe(url);
  p.ws.send(hello());
  await p.waitFor((m) => m.type === 'welcome');
  return p;
}
