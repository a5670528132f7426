import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { EmoStreamClient, type EmotionResult } from '../../clients/node/index.js';
import { mintToken } from '../../src/auth/mint.js';
import type { Scope } from '../../src/auth/types.js';
import { SUBPROTOCOL } from '../../src/protocol/v1/messages.js';
import type { ConfigInput } from '../../src/server/config.js';
import { startTestServer, type TestServer } from './server.js';
import { tinyLoaders } from './tiny-models.js';

export const SECRET = 'integration-test-secret-0123456789abcdefghij';

export function token(sub: string, scopes: Scope[], extra: { session?: string; ttlS?: number; secret?: string } = {}): Promise<string> {
  return mintToken({ secret: extra.secret ?? SECRET, sub, scopes, session: extra.session, ttlS: extra.ttlS ?? 300, audience: 'emostream' });
}

/** A pino logger keeping every line, to check what the audit log says and that no credential is ever written. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb(); } });
  return { logger: pino({ level: 'info' }, sink), lines };
}

export type UpgradeAnswer = { status: number; code: string | null; message: string; headers: Record<string, string | string[] | undefined> } | { status: 101; ws: WebSocket };

/** Opens a WebSocket (or learns why the server refused the upgrade: status, catalogue code, headers). */
export function upgrade(url: string, opts: { token?: string; headers?: Record<string, string>; ca?: Buffer } = {}): Promise<UpgradeAnswer> {
  const headers = { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers };
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [SUBPROTOCOL], { headers, ca: opts.ca });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => {
        let code: string | null = null;
        let message = body;
        try {
          ({ code, message } = JSON.parse(body) as { code: string; message: string });
        } catch { /* a plain-text refusal (404, 503) */ }
        resolve({ status: res.statusCode ?? 0, code, message, headers: res.headers });
      });
    });
    ws.once('error', (err) => reject(err));
  });
}

export async function refused(url: string, opts: Parameters<typeof upgrade>[1], status: number, code: string): Promise<string> {
  const a = await upgrade(url, opts);
  if (a.status === 101) {
    (a as { ws: WebSocket }).ws.close();
    assert.fail(`upgrade to ${url} was accepted; expected ${status} ${code}`);
  }
  const r = a as Exclude<UpgradeAnswer, { ws: WebSocket }>;
  assert.equal(r.status, status, r.message);
  assert.equal(r.code, code, r.message);
  return r.message;
}

const tone = (n: number, offset: number) => Int16Array.from({ length: n }, (_, i) => Math.round(6000 * Math.sin((offset + i) / 7)));

/**
 * A well-behaved session streaming 20 ms of audio every 20 ms for as long as a test file runs: after each hostile
 * request, `more()` checks that its results keep coming.
 */
export class SteadySession {
  readonly results: EmotionResult[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chunk = 0;
  private reader: Promise<void> | null = null;

  private constructor(readonly client: EmoStreamClient) {}

  static async start(url: string, tok?: string): Promise<SteadySession> {
    const s = new SteadySession(await EmoStreamClient.connect({ url, token: tok }));
    s.reader = (async () => { for await (const r of s.client.results()) s.results.push(r); })();
    s.timer = setInterval(() => {
      s.client.sendAudio(tone(320, s.chunk * 320), { sampleRate: 16000, channels: 1, ptsUs: s.chunk * 20_000 });
      s.chunk++;
    }, 20);
    return s;
  }

  get sessionId(): string {
    return this.client.welcome.sessionId;
  }

  /** Resolves once `n` more results have arrived (fails after timeoutMs: the session was harmed). */
  async more(n = 2, timeoutMs = 15_000): Promise<void> {
    const target = this.results.length + n;
    const t0 = Date.now();
    while (this.results.length < target) {
      if (Date.now() - t0 > timeoutMs) assert.fail(`the well-behaved session stalled at ${this.results.length} results`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const { close } = await this.client.end();
    await this.reader;
    assert.equal(close.code, 1000, 'the well-behaved session ends normally');
  }
}

/** A test server with a SteadySession already getting results, and one close() for both (in that order). */
export async function serverWithSteady(
  transport: 'uws' | 'ws', overrides: ConfigInput, credential: string | Promise<string>, logger?: Logger,
): Promise<{ ts: TestServer; steady: SteadySession; close: () => Promise<void> }> {
  const ts = await startTestServer(transport, overrides, tinyLoaders(), logger);
  const steady = await SteadySession.start(ts.url, await credential);
  await steady.more(1);
  return {
    ts, steady, close: async () => {
      await steady.stop();
      await ts.close();
    },
  };
}
