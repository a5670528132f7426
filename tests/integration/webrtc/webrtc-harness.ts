import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VideoFrameInput } from '../../../src/contracts/models.js';
import type { ServerMessage } from '../../../src/protocol/v1/messages.js';
import type { IngestHandle, IngestSessions, IngestSink } from '../../../src/webrtc/host.js';
import { WhipEndpoint, type WhipEndpointOptions, type WhipRequest } from '../../../src/webrtc/whip.js';

/** A recording stand-in for src/server's session API: keeps what the ingest pushed, answers end() like the server. */
export class RecordingSessions implements IngestSessions {
  readonly opened: RecordingHandle[] = [];
  limit = Infinity;
  open(opts: { client: string; sink: IngestSink }): IngestHandle {
    if (this.opened.filter((h) => !h.ended).length >= this.limit) {
      throw Object.assign(new Error('server session limit reached'), { code: 'EMO_ERR_TOO_MANY_SESSIONS' });
    }
    const h = new RecordingHandle(`s${this.opened.length + 1}`, opts.sink);
    this.opened.push(h);
    return h;
  }
}

export class RecordingHandle implements IngestHandle {
  readonly pcm: { ptsUs: number; sampleRate: number; channels: number; samples: Float32Array }[] = [];
  readonly video: VideoFrameInput[] = [];
  ended: 'end' | 'abort' | null = null;
  constructor(readonly id: string, readonly sink: IngestSink) {}
  get welcome(): unknown {
    return { type: 'welcome', protocol: '1.0', sessionId: this.id, models: [], windowMs: 3000, hopMs: 500, labels: [], limits: { maxFrameBytes: 1 << 22, videoAnalysisFps: 10 } };
  }
  pushPcm(samples: Int16Array | Float32Array, f: { sampleRate: number; channels: 1 | 2; ptsUs: number }): boolean {
    this.pcm.push({ ...f, samples: Float32Array.from(samples) });
    return true;
  }
  pushVideo(frame: VideoFrameInput): boolean {
    this.video.push(frame);
    return true;
  }
  /** Sends one result for the audio received so far, as the pipeline would at a hop. */
  emitResult(): void {
    const last = this.pcm.at(-1);
    if (!last) return;
    const endUs = last.ptsUs + (last.samples.length * 1e6) / last.sampleRate;
    const probs = [0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125];
    this.sink.send({
      type: 'emotion', sessionId: this.id, hop: 0, windowStartUs: endUs - 3e6, windowEndUs: endUs, lastFramePtsUs: last.ptsUs, final: false,
      speech: { probs }, face: null, faces: null, expression: null, fused: { probs, label: 'neutral', head: 'passthrough:speech' },
      latency: { queueMs: 0, speechMs: 1, faceMs: null, fuseMs: 0, totalMs: 1 }, droppedWindows: 0,
    } as ServerMessage);
  }
  get samples(): number {
    return this.pcm.reduce((n, c) => n + c.samples.length, 0);
  }
  async end(): Promise<void> {
    this.ended = 'end';
    this.sink.send({ type: 'end', sessionId: this.id, reason: 'client-end', results: 0, droppedWindows: 0 });
    this.sink.close(1000, 'end');
  }
  abort(): void {
    this.ended = 'abort';
  }
}

export interface Harness {
  url: string;
  whip: WhipEndpoint;
  sessions: RecordingSessions;
  close(): Promise<void>;
}

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The WHIP endpoint on a bare node:http server (port 0), routed the way src/server/routes.ts routes it. */
export async function startHarness(opts: Partial<WhipEndpointOptions> = {}): Promise<Harness> {
  const sessions = new RecordingSessions();
  const whip = new WhipEndpoint({ sessions, log: quietLog, maxSessions: 8, ...opts });
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1\/whip(?:\/([^/]+))?$/.exec(url.pathname);
    const wreq: WhipRequest = {
      method: req.method ?? 'GET', path: url.pathname, params: m?.[1] ? { id: m[1] } : {},
      headers: req.headers as Record<string, string | undefined>, body: Buffer.concat(chunks),
    };
    const out = !m ? { status: 404 }
      : req.method === 'OPTIONS' ? whip.options()
      : req.method === 'POST' && !m[1] ? await whip.post(wreq)
      : req.method === 'DELETE' && m[1] ? await whip.delete(wreq)
      : whip.notAllowed(wreq);
    res.writeHead(out.status, out.headers ?? {});
    res.end(out.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1/whip`,
    whip,
    sessions,
    close: async () => {
      await whip.shutdown();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A 48 kHz test tone with a slow amplitude envelope (plumbing only: the decoded output is compared with it). */
export function tone48k(seconds: number, hz = 440): Float32Array {
  const n = Math.round(seconds * 48000);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.3 * Math.sin((2 * Math.PI * hz * i) / 48000) * (0.6 + 0.4 * Math.sin((2 * Math.PI * i) / 48000));
  return out;
}
