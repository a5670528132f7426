import WebSocket from 'ws';
import { encodeAudioFrame, encodeAuFrame, encodeVideoFrame } from '../../src/protocol/v1/frames.js';
import {
  PROTOCOL_VERSION, SUBPROTOCOL, serverMessageSchema,
  type EmotionResult, type EndMessage, type ErrorMessage, type ServerMessage, type SubscribedMessage, type Welcome,
} from '../../src/protocol/v1/messages.js';
import { AsyncQueue } from './async-queue.js';

export interface StreamClientOptions {
  /** Server base URL, e.g. ws://localhost:8080 (the /v1/stream path is added). */
  url: string;
  client?: string;
  protocol?: string;
  /** Ask for each face's driver state in results (protocol 1.1; docs/driver-state.md). */
  driverState?: boolean;
  /** Reconnect (with a new session) when the connection drops before `end`: attempts and delay between them. */
  reconnect?: { retries: number; delayMs: number };
  /** Give up connecting after this long. */
  connectTimeoutMs?: number;
  /** Credential (JWT or API key), sent as `Authorization: Bearer` on the upgrade (docs/security.md). */
  token?: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** Why the socket failed, when it did (1006 closes: a refused frame, a reset): what `ws` reported. */
  error?: string;
}

function endpoint(base: string, path: string): string {
  const u = new URL(base);
  u.pathname = path;
  return u.toString();
}

function parse(data: WebSocket.RawData): ServerMessage | null {
  try {
    const raw = JSON.parse(data.toString()) as unknown;
    const res = serverMessageSchema.safeParse(raw);
    return res.success ? (raw as ServerMessage) : null;
  } catch {
    return null;
  }
}

function openSocket(url: string, timeoutMs: number, attach?: (ws: WebSocket) => void, token?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : undefined;
    const ws = new WebSocket(url, [SUBPROTOCOL], { perMessageDeflate: false, headers });
    // Listeners go on before the handshake completes: the server may speak first (subscribers get `subscribed`).
    attach?.(ws);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`connect to ${url} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => reject(new Error(`server refused the WebSocket (${res.statusCode}): ${body}`)));
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * A streaming session from Node: `connect` sends hello and waits for welcome; `sendAudio`/`sendAu`/`sendVideo` write
 * binary frames; `results()` is an async iterator of emotion results; `end()` asks for the final result and waits
 * for the close. Every frame's send time is remembered by ptsUs so callers can compute end-to-end latency from a
 * result's `lastFramePtsUs`.
 */
export class EmoStreamClient {
  welcome!: Welcome;
  private ws!: WebSocket;
  private readonly resultQueue = new AsyncQueue<EmotionResult>();
  private readonly messageQueue = new AsyncQueue<ServerMessage>();
  private readonly sendTimes = new Map<number, number>();
  private seq = 0;
  private ending = false;
  private endMessage: EndMessage | null = null;
  private closeInfo: CloseInfo | null = null;
  private closeWaiters: ((c: CloseInfo) => void)[] = [];
  readonly errors: ErrorMessage[] = [];
  reconnects = 0;

  private constructor(private readonly opts: StreamClientOptions) {}

  static async connect(opts: StreamClientOptions): Promise<EmoStreamClient> {
    const c = new EmoStreamClient(opts);
    await c.open();
    return c;
  }

  private async open(): Promise<void> {
    const ws = await openSocket(endpoint(this.opts.url, '/v1/stream'), this.opts.connectTimeoutMs ?? 10000, undefined, this.opts.token);
    this.ws = ws;
    this.closeInfo = null;
    const welcome = new Promise<Welcome>((resolve, reject) => {
      const onMsg = (data: WebSocket.RawData) => {
        const m = parse(data);
        if (m?.type === 'welcome') {
          ws.off('message', onMsg);
          resolve(m);
        } else if (m?.type === 'error') {
          ws.off('message', onMsg);
          reject(new Error(`${m.code}: ${m.message}`));
        }
      };
      ws.on('message', onMsg);
      ws.once('close', (code, reason) => reject(new Error(`closed before welcome (${code} ${reason.toString()})`)));
    });
    ws.send(JSON.stringify({ type: 'hello', protocol: this.opts.protocol ?? PROTOCOL_VERSION, client: this.opts.client ?? 'emostream-node', streams: [], ...(this.opts.driverState ? { driverState: true } : {}) }));
    this.welcome = await welcome;
    ws.on('message', (data) => this.onMessage(data));
    ws.on('close', (code, reason) => void this.onClose({ code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  private onMessage(data: WebSocket.RawData): void {
    const m = parse(data);
    if (!m) return;
    this.messageQueue.push(m);
    if (m.type === 'emotion') this.resultQueue.push(m);
    else if (m.type === 'error') this.errors.push(m);
    else if (m.type === 'end') this.endMessage = m;
  }

  private async onClose(info: CloseInfo): Promise<void> {
    const retry = this.opts.reconnect;
    const unexpected = !this.ending && info.code !== 1000;
    if (unexpected && retry && this.reconnects < retry.retries && (info.code === 1006 || info.code === 1001 || info.code === 1011)) {
      this.reconnects++;
      await new Promise((r) => setTimeout(r, retry.delayMs));
      try {
        await this.open();
        return;
      } catch {
        // fall through: report the original close
      }
    }
    this.closeInfo = info;
    this.resultQueue.end();
    this.messageQueue.end();
    for (const w of this.closeWaiters.splice(0)) w(info);
  }

  get sessionId(): string {
    return this.welcome.sessionId;
  }

  /** Bytes queued in the socket, for pacing. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  private write(frame: Uint8Array | string, ptsUs?: number): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (ptsUs !== undefined) {
      this.sendTimes.set(ptsUs, performance.now());
      if (this.sendTimes.size > 20000) this.sendTimes.delete(this.sendTimes.keys().next().value!);
    }
    this.ws.send(frame);
    return true;
  }

  sendAudio(samples: Int16Array | Float32Array, o: { sampleRate: number; channels: 1 | 2; ptsUs: number; streamId?: number }): boolean {
    return this.write(encodeAudioFrame({ streamId: o.streamId ?? 0, seq: this.seq++, ptsUs: o.ptsUs }, samples, o.sampleRate, o.channels), o.ptsUs);
  }

  sendAu(aus: ArrayLike<number>, ptsUs: number, streamId = 1): boolean {
    return this.write(encodeAuFrame({ streamId, seq: this.seq++, ptsUs }, aus), ptsUs);
  }

  sendVideo(format: 'jpeg' | 'i420' | 'rgba', width: number, height: number, payload: Uint8Array, ptsUs: number, streamId = 2): boolean {
    return this.write(encodeVideoFrame({ streamId, seq: this.seq++, ptsUs }, format, width, height, payload), ptsUs);
  }

  /** Anything at all (tests of bad input). */
  sendRaw(data: Uint8Array | string): boolean {
    return this.write(data);
  }

  /** Wall-clock time (performance.now()) at which the frame with this ptsUs was sent, if remembered. */
  sentAt(ptsUs: number): number | undefined {
    return this.sendTimes.get(ptsUs);
  }

  /** End-to-end latency of a result: from sending the window's last frame to now. */
  latencyMs(result: EmotionResult, receivedAt = performance.now()): number | null {
    if (result.lastFramePtsUs === null) return null;
    const t = this.sentAt(result.lastFramePtsUs);
    return t === undefined ? null : receivedAt - t;
  }

  results(): AsyncIterableIterator<EmotionResult> {
    return this.resultQueue;
  }

  messages(): AsyncIterableIterator<ServerMessage> {
    return this.messageQueue;
  }

  closed(): Promise<CloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((r) => this.closeWaiters.push(r));
  }

  /** Sends `end`, waits for the final result and the close; returns the server's `end` summary. */
  async end(): Promise<{ end: EndMessage | null; close: CloseInfo }> {
    this.ending = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'end' }));
    const close = await this.closed();
    return { end: this.endMessage, close };
  }

  /** Drops the connection without `end` (what a crashing client does). */
  terminate(): void {
    this.ending = true;
    this.ws.terminate();
  }

  close(code = 1000): void {
    this.ending = true;
    this.ws.close(code);
  }

  /** Underlying socket (tests pause it to simulate a slow reader). */
  get socket(): WebSocket {
    return this.ws;
  }
}

/** An observer of another session: yields every message (`subscribed`, results, `end`, errors) until the close. */
export class EmoSubscriber {
  private readonly queue = new AsyncQueue<ServerMessage>();
  private closeInfo: CloseInfo | null = null;
  private closeWaiters: ((c: CloseInfo) => void)[] = [];
  private settleFirst: (arrived: boolean) => void = () => undefined;
  private readonly first = new Promise<boolean>((resolve) => { this.settleFirst = resolve; });

  private constructor(readonly ws: WebSocket) {}

  /** True once the first message (normally `subscribed`) is here, false when the socket closed before any; consumes nothing. */
  firstMessageArrived(): Promise<boolean> {
    return this.first;
  }

  private attach(ws: WebSocket): void {
    ws.on('message', (d) => {
      const m = parse(d);
      if (!m) return;
      this.queue.push(m);
      this.settleFirst(true);
    });
    let failure: string | undefined;
    ws.on('close', (code, reason) => {
      this.settleFirst(false);
      this.closeInfo = { code, reason: reason.toString(), ...(failure ? { error: failure } : {}) };
      this.queue.end();
      for (const w of this.closeWaiters.splice(0)) w(this.closeInfo);
    });
    ws.on('error', (err) => { failure = err.message; });
  }

  /**
   * `opts.token`: credential with the subscribe scope, sent as `Authorization: Bearer`. `opts.since`: first replay the
   * session's stored results from that hop (server with history; protocol 1.1). `opts.driverState`: ask for each
   * face's driver state in the session's results (protocol 1.1).
   */
  static async connect(url: string, sessionId: string, timeoutMs = 10000, opts: { token?: string; since?: number; driverState?: boolean } = {}): Promise<EmoSubscriber> {
    const u = new URL(endpoint(url, '/v1/subscribe'));
    u.searchParams.set('session', sessionId);
    if (opts.since !== undefined) u.searchParams.set('since', String(opts.since));
    if (opts.driverState) u.searchParams.set('driverState', '1');
    let sub: EmoSubscriber | null = null;
    const ws = await openSocket(u.toString(), timeoutMs, (socket) => {
      sub = new EmoSubscriber(socket);
      sub.attach(socket);
    }, opts.token);
    return sub ?? new EmoSubscriber(ws);
  }

  messages(): AsyncIterableIterator<ServerMessage> {
    return this.queue;
  }

  closed(): Promise<CloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((r) => this.closeWaiters.push(r));
  }

  close(): void {
    this.ws.close(1000);
  }
}

export type { EmotionResult, EndMessage, ErrorMessage, ServerMessage, SubscribedMessage, Welcome };
