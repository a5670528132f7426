import { RTCPeerConnection, RTCRtpCodecParameters, type MediaStreamTrack, type RTCDataChannel, type RtpPacket } from 'werift';
import type { ServerMessage } from '../protocol/v1/messages.js';
import { errorMessage } from '../protocol/v1/messages.js';
import { AudioIngest, type AudioIngestStats } from './audio-ingest.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import type { IngestHandle, IngestSessions, Logger } from './host.js';
import { SessionClock } from './rtp-timeline.js';
import { VideoIngest, type VideoIngestStats } from './video-ingest.js';

/** Why a WebRTC session ended: logged, counted in its stats and the metrics (the client's `end` carries the protocol's reason). */
export type PeerEndReason = 'client-end' | 'whip-delete' | 'ice-timeout' | 'ice-failed' | 'media-timeout' | 'shutdown' | 'error';

export interface PeerSessionConfig {
  /** A peer that has not connected (ICE + DTLS) this long after the answer is dropped. */
  iceTimeoutMs: number;
  /** How long a peer may stay 'disconnected' before the session ends as lost. */
  disconnectGraceMs: number;
  /** No RTP at all for this long after connecting ends the session. */
  mediaTimeoutMs: number;
  /** Longest wait for ICE candidate gathering before answering. */
  gatherTimeoutMs: number;
  analysisFps: number;
  videoWidth: number;
  videoHeight: number;
  /** Extra host addresses to gather on (e.g. 127.0.0.1, which werift skips by default). */
  iceAdditionalHostAddresses: string[];
  icePortRange?: [number, number];
  /** Bytes queued on the DataChannel beyond which results are dropped (and counted) rather than buffered. */
  maxDataChannelBufferedBytes: number;
  /** Messages held until the DataChannel opens. */
  maxQueuedMessages: number;
  statsIntervalMs: number;
}

export const DEFAULT_PEER_CONFIG: PeerSessionConfig = {
  iceTimeoutMs: 10_000,
  disconnectGraceMs: 5_000,
  mediaTimeoutMs: 6_000,
  gatherTimeoutMs: 2_000,
  analysisFps: 10,
  videoWidth: 640,
  videoHeight: 480,
  iceAdditionalHostAddresses: ['127.0.0.1'],
  maxDataChannelBufferedBytes: 1 << 20,
  maxQueuedMessages: 64,
  statsIntervalMs: 1000,
};

export interface PeerSessionStats {
  id: string;
  state: string;
  audio: AudioIngestStats | null;
  video: VideoIngestStats | null;
  messagesSent: number;
  messagesDropped: number;
  /** RTP packets of tracks we cannot decode (codec not negotiated for ingest). */
  ignoredPackets: number;
}

/** Opus in the answer: in-band FEC on, average bitrate capped at 64 kbps (plenty for speech; browsers default lower). */
function codecs(): ConstructorParameters<typeof RTCPeerConnection>[0] {
  const fb = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }];
  return {
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1;maxaveragebitrate=64000' })],
      video: [
        new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: fb }),
        new RTCRtpCodecParameters({
          mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: fb,
          parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
        }),
      ],
    },
  };
}

/**
 * One WebRTC ingest session: a werift peer connection whose Opus track becomes PCM and whose VP8/H264 track becomes
 * I420 frames for the session (src/server's session API), with results going back on the peer's DataChannel. Owns
 * every timer and child process of the session and releases them in `finish`, whatever the reason.
 */
export class PeerSession {
  readonly clock = new SessionClock();
  private handle: IngestHandle | null = null;
  private audio: AudioIngest | null = null;
  private video: VideoIngest | null = null;
  private videoAttached = false;
  private videoFactory: (() => VideoIngest) | null = null;
  private dc: RTCDataChannel | null = null;
  private queued: string[] = [];
  private messagesSent = 0;
  private messagesDropped = 0;
  private ignoredPackets = 0;
  private lastRtpAtMs = 0;
  private timers: NodeJS.Timeout[] = [];
  private disconnectTimer: NodeJS.Timeout | null = null;
  private finished: Promise<void> | null = null;
  private endReason: PeerEndReason | null = null;
  private connected = false;

  private constructor(
    readonly pc: RTCPeerConnection,
    private readonly cfg: PeerSessionConfig,
    private readonly log: Logger,
    private readonly onEnded: (s: PeerSession, reason: PeerEndReason) => void,
  ) {}

  get id(): string {
    return this.handle?.id ?? '';
  }

  get reason(): PeerEndReason | null {
    return this.endReason;
  }

  /**
   * Negotiates the offer and opens the emotion session. Throws ProtocolError: BAD_SDP when werift rejects the offer,
   * TOO_MANY_SESSIONS at the session limit. Resolves with the answer once ICE candidates are gathered.
   */
  static async create(
    offerSdp: string,
    sessions: IngestSessions,
    cfg: PeerSessionConfig,
    log: Logger,
    onEnded: (s: PeerSession, reason: PeerEndReason) => void,
  ): Promise<{ session: PeerSession; answerSdp: string }> {
    const pc = new RTCPeerConnection({
      ...codecs(),
      iceAdditionalHostAddresses: cfg.iceAdditionalHostAddresses,
      ...(cfg.icePortRange ? { icePortRange: cfg.icePortRange } : {}),
    });
    const s = new PeerSession(pc, cfg, log, onEnded);
    pc.onTrack.subscribe((track) => s.attachTrack(track));
    pc.onDataChannel.subscribe((dc) => s.attachDataChannel(dc));
    pc.connectionStateChange.subscribe((state) => s.onConnectionState(state));
    let answerSdp: string;
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await s.gathered();
      answerSdp = pc.localDescription?.sdp ?? '';
      if (!answerSdp) throw new Error('no local description after createAnswer');
    } catch (err) {
      await pc.close().catch(() => undefined);
      throw new ProtocolError('EMO_ERR_WHIP_BAD_SDP', `the offer could not be negotiated: ${(err as Error).message}`);
    }
    try {
      s.handle = sessions.open({
        client: 'webrtc/werift',
        transport: 'webrtc',
        sink: { send: (msg) => s.toClient(msg), close: (code, reason) => s.onSinkClose(code, reason) },
      });
    } catch (err) {
      await pc.close().catch(() => undefined);
      const code = (err as { code?: string }).code;
      if (code === 'EMO_ERR_TOO_MANY_SESSIONS' || code === 'EMO_ERR_SHUTTING_DOWN') throw new ProtocolError('EMO_ERR_WHIP_TOO_MANY_SESSIONS', (err as Error).message);
      throw err;
    }
    s.send(JSON.stringify(s.handle.welcome));
    s.timers.push(setTimeout(() => { if (!s.connected) void s.finish('ice-timeout'); }, cfg.iceTimeoutMs));
    s.timers.push(setInterval(() => s.tick(), cfg.statsIntervalMs));
    for (const t of s.timers) t.unref();
    return { session: s, answerSdp };
  }

  private gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.cfg.gatherTimeoutMs);
      this.pc.iceGatheringStateChange.subscribe((st) => {
        if (st === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  private attachTrack(track: MediaStreamTrack): void {
    const mime = (track.codec?.mimeType ?? '').toLowerCase();
    const transceiver = this.pc.getTransceivers().find((t) => t.receiver.tracks.includes(track));
    if (track.kind === 'audio' && mime === 'audio/opus' && !this.audio) {
      const audio = new AudioIngest({
        clock: this.clock,
        onPcm: (c) => this.handle?.pushPcm(c.samples, { sampleRate: c.sampleRate, channels: c.channels, ptsUs: c.ptsUs }),
      });
      this.audio = audio;
      track.onReceiveRtp.subscribe((rtp) => {
        this.lastRtpAtMs = Date.now();
        if (!this.finished) audio.onRtp(rtp);
      });
      track.onReceiveRtcp.subscribe((p) => senderReport(p, (ntp, ts) => audio.onSenderReport(ntp, ts)));
      return;
    }
    if (track.kind === 'video' && (mime === 'video/vp8' || mime === 'video/h264') && !this.videoAttached) {
      this.videoAttached = true;
      // The ffmpeg process starts once the peer is connected (or with the first packet), not at negotiation: an offer
      // that never connects costs no process, and the decoder is up by the time the first frames arrive.
      this.videoFactory = (): VideoIngest => new VideoIngest({
        codec: mime === 'video/vp8' ? 'vp8' : 'h264',
        clock: this.clock,
        analysisFps: this.cfg.analysisFps,
        width: this.cfg.videoWidth,
        height: this.cfg.videoHeight,
        onFrame: (f) => this.handle?.pushVideo(f),
        requestKeyframe: () => {
          if (transceiver && track.ssrc !== undefined) void transceiver.receiver.sendRtcpPLI(track.ssrc).catch(() => undefined);
        },
        onError: (err) => this.log.warn({ session: this.id, err: err.message }, 'webrtc video decoder failed'),
      });
      track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
        this.lastRtpAtMs = Date.now();
        if (this.finished) return;
        this.video ??= this.videoFactory!();
        this.video.onRtp(rtp);
      });
      track.onReceiveRtcp.subscribe((p) => senderReport(p, (ntp, ts) => this.video?.onSenderReport(ntp, ts)));
      return;
    }
    track.onReceiveRtp.subscribe(() => {
      this.ignoredPackets++;
    });
  }

  private attachDataChannel(dc: RTCDataChannel): void {
    if (this.dc) return;
    this.dc = dc;
    dc.stateChanged.subscribe((st) => {
      if (st === 'open') this.flushQueue();
    });
    dc.onMessage.subscribe((data) => this.fromClient(typeof data === 'string' ? data : data.toString('utf8')));
    if (dc.readyState === 'open') this.flushQueue();
  }

  private onConnectionState(state: string): void {
    if (state === 'connected') {
      this.connected = true;
      if (this.videoFactory && !this.video && !this.finished) this.video = this.videoFactory();
      this.lastRtpAtMs = Date.now();
      if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
      this.disconnectTimer = null;
    } else if (state === 'failed') {
      void this.finish('ice-failed');
    } else if (state === 'disconnected' && !this.disconnectTimer) {
      this.disconnectTimer = setTimeout(() => void this.finish('ice-failed'), this.cfg.disconnectGraceMs);
      this.disconnectTimer.unref();
    } else if (state === 'closed') {
      void this.finish(this.connected ? 'ice-failed' : 'ice-timeout');
    }
  }

  private tick(): void {
    if (this.finished) return;
    if (this.connected && Date.now() - this.lastRtpAtMs > this.cfg.mediaTimeoutMs) {
      void this.finish('media-timeout');
      return;
    }
    if (this.connected) this.send(JSON.stringify({ type: 'webrtc-stats', sessionId: this.id, ...this.statsBody() }));
  }

  private statsBody(): { audio: AudioIngestStats | null; video: VideoIngestStats | null; messagesDropped: number } {
    return { audio: this.audio?.stats() ?? null, video: this.video?.stats() ?? null, messagesDropped: this.messagesDropped };
  }

  stats(): PeerSessionStats {
    return {
      id: this.id,
      state: this.pc.connectionState,
      ...this.statsBody(),
      messagesSent: this.messagesSent,
      ignoredPackets: this.ignoredPackets,
    };
  }

  /** Server message -> DataChannel. Results carry the browser-clock capture time of their window's last sample. */
  private toClient(msg: ServerMessage): void {
    let out: object = msg;
    if (msg.type === 'emotion') {
      const timeline = this.audio?.timeline ?? this.video?.timeline ?? null;
      const cap = timeline?.captureTime(msg.windowEndUs) ?? null;
      if (cap) out = { ...msg, capture: { windowEndEpochMs: Math.round(cap.epochMs * 10) / 10, basis: cap.basis } };
    }
    this.send(JSON.stringify(out));
  }

  private send(text: string): void {
    const dc = this.dc;
    if (!dc || dc.readyState !== 'open') {
      if (dc && dc.readyState !== 'connecting') {
        this.messagesDropped++;
        return;
      }
      if (this.queued.length >= this.cfg.maxQueuedMessages) {
        this.queued.shift();
        this.messagesDropped++;
      }
      this.queued.push(text);
      return;
    }
    if (dc.bufferedAmount > this.cfg.maxDataChannelBufferedBytes) {
      this.messagesDropped++;
      return;
    }
    try {
      dc.send(text);
      this.messagesSent++;
    } catch {
      this.messagesDropped++;
    }
  }

  private flushQueue(): void {
    const q = this.queued;
    this.queued = [];
    for (const t of q) this.send(t);
  }

  private fromClient(text: string): void {
    let msg: { type?: unknown; id?: unknown; t?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.send(JSON.stringify(errorMessage('EMO_ERR_BAD_MESSAGE', 'DataChannel message is not valid JSON')));
      return;
    }
    if (msg?.type === 'end') void this.finish('client-end');
    else if (msg?.type === 'ping') this.send(JSON.stringify({ type: 'pong', id: msg.id, t: msg.t, serverEpochMs: Date.now() }));
    else this.send(JSON.stringify(errorMessage('EMO_ERR_BAD_MESSAGE', 'DataChannel accepts {"type":"end"} and {"type":"ping"}')));
  }

  private onSinkClose(code: number, reason: string): void {
    // The session ended on the server side (end done, fatal error or shutdown): let the last messages drain, then hang up.
    if (!this.finished) {
      this.endReason = code === 1000 ? 'client-end' : code === 1001 ? 'shutdown' : 'error';
      this.finished = this.hangUp(reason);
    }
  }

  /** Ends the session once, for any reason: graceful reasons flush the media and wait for the final result. */
  finish(reason: PeerEndReason): Promise<void> {
    if (this.finished) return this.finished;
    this.endReason = reason;
    this.finished = (async () => {
      // A peer that stopped sending or lost ICE is gone, like a WebSocket client that vanished: no final result.
      const graceful = reason === 'client-end' || reason === 'whip-delete' || reason === 'shutdown';
      this.video?.close();
      if (graceful && this.handle) {
        this.audio?.drain();
        await this.handle.end().catch((err: Error) => this.log.warn({ session: this.id, err: err.message }, 'webrtc session end failed'));
      } else {
        this.handle?.abort();
      }
      await this.hangUp(reason);
    })();
    return this.finished;
  }

  private async hangUp(reason: string): Promise<void> {
    this.endReason ??= 'error';
    for (const t of this.timers) clearTimeout(t);
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.audio?.close();
    this.video?.close();
    const dc = this.dc;
    if (dc && dc.readyState === 'open') {
      const deadline = Date.now() + 500;
      while (dc.bufferedAmount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    await this.pc.close().catch(() => undefined);
    this.log.info({ session: this.id, reason, stats: this.statsBody() }, 'webrtc session ended');
    this.onEnded(this, this.endReason ?? 'error');
  }
}

/** Calls `fn` with (NTP, RTP timestamp) when the RTCP packet is a sender report. */
function senderReport(p: unknown, fn: (ntp: bigint, rtpTs: number) => void): void {
  const sr = p as { type?: number; senderInfo?: { ntpTimestamp: bigint; rtpTimestamp: number } };
  if (sr.type === 200 && sr.senderInfo) fn(sr.senderInfo.ntpTimestamp, sr.senderInfo.rtpTimestamp);
}
