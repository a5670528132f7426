import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCDataChannel } from 'werift';
import { OPUS_RATE } from '../../src/webrtc/opus-decoder.js';
import { OpusWasmEncoder } from '../../src/webrtc/opus-wasm.js';
import { packetizeH264, packetizeVp8 } from './rtp-packetize.js';
import type { CodedVideo } from './video-fixture.js';

const { create, ConverterType } = libsamplerate as unknown as {
  create: (ch: number, inRate: number, outRate: number, opts: { converterType: number }) => Promise<{ full(d: Float32Array): Float32Array; destroy(): void }>;
  ConverterType: { SRC_SINC_MEDIUM_QUALITY: number };
};

/** Mono PCM at any rate -> 48 kHz (what Opus carries), band-limited (libsamplerate). */
export async function to48k(samples: Float32Array, sampleRate: number): Promise<Float32Array> {
  if (sampleRate === OPUS_RATE) return samples;
  const src = await create(1, sampleRate, OPUS_RATE, { converterType: ConverterType.SRC_SINC_MEDIUM_QUALITY });
  try {
    return Float32Array.from(src.full(samples));
  } finally {
    src.destroy();
  }
}

export interface WhipClientOptions {
  /** Full URL of the WHIP endpoint, e.g. http://127.0.0.1:8080/v1/whip. */
  url: string;
  audio?: boolean;
  /** Also publish a video track in this codec (frames come from `sendVideoFrame`). */
  video?: 'vp8' | 'h264';
  /** Extra request headers (Authorization). */
  headers?: Record<string, string>;
  connectTimeoutMs?: number;
}

/**
 * A WHIP publisher in Node (werift): Opus audio encoded here from PCM, results read from the DataChannel. Used by the
 * integration tests and the WebRTC benchmarks as a stand-in for a browser; it speaks exactly what a browser speaks
 * on the wire (ICE, DTLS-SRTP, SCTP DataChannel, RTCP sender reports).
 */
export class WhipClient {
  readonly messages: Record<string, unknown>[] = [];
  private listeners: ((m: Record<string, unknown>) => void)[] = [];
  private encoder: OpusWasmEncoder | null = null;
  private seq = Math.floor(Math.random() * 30000);
  private ts = Math.floor(Math.random() * 1e9);
  sentPackets = 0;
  droppedPackets = 0;

  private constructor(
    readonly pc: RTCPeerConnection,
    readonly dc: RTCDataChannel,
    readonly audioTrack: MediaStreamTrack | null,
    readonly videoTrack: MediaStreamTrack | null,
    readonly location: string,
    readonly sessionId: string,
    private readonly opts: WhipClientOptions,
  ) {
    dc.onMessage.subscribe((data) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as Record<string, unknown>;
      } catch {
        return;
      }
      this.messages.push(m);
      for (const l of this.listeners) l(m);
    });
  }

  static async connect(opts: WhipClientOptions): Promise<WhipClient> {
    const video = opts.video
      ? [new RTCRtpCodecParameters(opts.video === 'vp8'
        ? { mimeType: 'video/VP8', clockRate: 90000 }
        : { mimeType: 'video/H264', clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' })]
      : undefined;
    const pc = new RTCPeerConnection({
      iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle',
      codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })], ...(video ? { video } : {}) },
    });
    let audioTrack: MediaStreamTrack | null = null;
    if (opts.audio !== false) {
      audioTrack = new MediaStreamTrack({ kind: 'audio' });
      pc.addTransceiver(audioTrack, { direction: 'sendonly' });
    }
    let videoTrack: MediaStreamTrack | null = null;
    if (opts.video) {
      videoTrack = new MediaStreamTrack({ kind: 'video' });
      pc.addTransceiver(videoTrack, { direction: 'sendonly' });
    }
    const dc = pc.createDataChannel('emostream');
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 2000);
        pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && (clearTimeout(t), r()));
      });
    }
    const res = await fetch(opts.url, { method: 'POST', headers: { 'content-type': 'application/sdp', ...(opts.headers ?? {}) }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) {
      await pc.close();
      throw new Error(`WHIP POST ${res.status}: ${body}`);
    }
    const location = new URL(res.headers.get('location') ?? '', opts.url).toString();
    const client = new WhipClient(pc, dc, audioTrack, videoTrack, location, res.headers.get('x-emostream-session') ?? '', opts);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    await client.waitFor(() => dc.readyState === 'open', opts.connectTimeoutMs ?? 10_000, 'DataChannel open');
    return client;
  }

  onMessage(fn: (m: Record<string, unknown>) => void): void {
    this.listeners.push(fn);
  }

  async waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Encodes one 20 ms frame (960 samples at 48 kHz) into the next RTP packet, without sending it. */
  encodeFrame(frame48k: Float32Array): RtpPacket {
    this.encoder ??= new OpusWasmEncoder(OPUS_RATE, 1);
    const pcm = new Int16Array(960);
    for (let i = 0; i < 960; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round((frame48k[i] ?? 0) * 32767)));
    const payload = this.encoder.encode(pcm, 960);
    const header = new RtpHeader({ sequenceNumber: this.seq & 0xffff, timestamp: this.ts >>> 0, payloadType: 111, marker: false });
    this.seq++;
    this.ts += 960;
    return new RtpPacket(header, payload);
  }

  /** Sends an encoded packet (in any order: tests reorder and drop on purpose). */
  writeAudioPacket(p: RtpPacket): void {
    if (!this.audioTrack) throw new Error('no audio track');
    this.audioTrack.writeRtp(p);
    this.sentPackets++;
  }

  /** Encodes one 20 ms frame and sends it; `drop` skips the send to simulate loss. */
  sendFrame(frame48k: Float32Array, drop = false): void {
    if (!this.audioTrack) throw new Error('no audio track');
    const p = this.encodeFrame(frame48k);
    if (drop) this.droppedPackets++;
    else this.writeAudioPacket(p);
  }

  /**
   * Streams 48 kHz mono PCM in 20 ms packets at real-time pace (or faster with `speed`). `lossRate` drops packets at
   * random; `onFrame` sees each frame's send time (epoch ms) and the sample offset of its end.
   */
  async streamPcm(samples48k: Float32Array, opts: { speed?: number; lossRate?: number; onFrame?: (sentAtMs: number, endSample: number) => void } = {}): Promise<void> {
    const speed = opts.speed ?? 1;
    const t0 = performance.now();
    for (let off = 0, k = 0; off < samples48k.length; off += 960, k++) {
      const due = t0 + (k * 20) / speed;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      this.sendFrame(samples48k.subarray(off, off + 960), Math.random() < (opts.lossRate ?? 0));
      opts.onFrame?.(Date.now(), Math.min(off + 960, samples48k.length));
    }
  }

  private videoSeq = Math.floor(Math.random() * 30000);
  private videoTs = Math.floor(Math.random() * 1e9);
  videoFramesSent = 0;

  /** Packetises one coded frame (VP8 frame or H264 access unit) and sends it; the RTP clock advances by 1/fps. */
  sendVideoFrame(codec: 'vp8' | 'h264', frame: { nals: Buffer[] }, fps: number): void {
    if (!this.videoTrack) throw new Error('no video track');
    const payloads = codec === 'vp8' ? packetizeVp8(frame.nals[0]) : packetizeH264(frame.nals);
    payloads.forEach((p, i) => {
      const header = new RtpHeader({ sequenceNumber: this.videoSeq & 0xffff, timestamp: this.videoTs >>> 0, payloadType: 96, marker: i === payloads.length - 1 });
      this.videoSeq++;
      this.videoTrack!.writeRtp(new RtpPacket(header, p));
    });
    this.videoTs += Math.round(90000 / fps);
    this.videoFramesSent++;
  }

  /** Sends coded video at its frame rate (looping) for `seconds`. */
  async streamVideo(video: CodedVideo, seconds: number): Promise<void> {
    const t0 = performance.now();
    const n = Math.round(seconds * video.fps);
    for (let k = 0; k < n; k++) {
      const wait = t0 + (k * 1000) / video.fps - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      this.sendVideoFrame(video.codec, video.frames[k % video.frames.length], video.fps);
    }
  }

  sendControl(msg: object): void {
    this.dc.send(JSON.stringify(msg));
  }

  /** Asks the server to end the session over the DataChannel and waits for its `end` message. */
  async end(timeoutMs = 5000): Promise<void> {
    this.sendControl({ type: 'end' });
    await this.waitFor(() => this.messages.some((m) => m.type === 'end'), timeoutMs, 'end message');
  }

  async delete(): Promise<Response> {
    return fetch(this.location, { method: 'DELETE', headers: this.opts.headers ?? {} });
  }

  async close(): Promise<void> {
    this.encoder?.delete();
    this.encoder = null;
    await this.pc.close();
  }
}
