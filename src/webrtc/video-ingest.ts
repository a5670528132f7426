import { DepacketizeBase } from 'werift/nonstandard';
import type { RtpPacket } from 'werift';
import type { VideoFrameInput } from '../contracts/models.js';
import { FfmpegVideoDecoder, type FfmpegVideoDecoderStats, type VideoCodecName } from './ffmpeg-video-decoder.js';
import { JitterBuffer, type JitterStats } from './jitter-buffer.js';
import { RtpTimeline, type SessionClock } from './rtp-timeline.js';

export const VIDEO_CLOCK_RATE = 90000;

export interface VideoIngestOptions {
  codec: VideoCodecName;
  clock: SessionClock;
  /** Frames handed on per second at most (the face pipeline's analysis rate). */
  analysisFps: number;
  width: number;
  height: number;
  onFrame: (frame: VideoFrameInput) => void;
  /** Ask the sender for a keyframe (RTCP PLI); rate-limited here. */
  requestKeyframe: () => void;
  onError?: (err: Error) => void;
  jitterLatencyMs?: number;
  jitterMaxPackets?: number;
}

export interface VideoIngestStats extends JitterStats {
  codec: VideoCodecName;
  framesDepacketized: number;
  framesDelivered: number;
  /** Decoded frames not handed on because they came sooner than the analysis rate allows. */
  framesDecimated: number;
  keyframeRequests: number;
  decoder: FfmpegVideoDecoderStats;
}

/**
 * One video track: RTP -> bounded jitter buffer -> werift depacketiser (VP8 or H264 -> whole coded frames, waiting
 * for a keyframe) -> ffmpeg decode to fixed-size I420 -> decimation to the analysis frame rate -> the session.
 * Every coded frame is decoded (inter frames depend on each other); only decoded pictures are decimated.
 */
export class VideoIngest {
  readonly timeline: RtpTimeline;
  private readonly jitter: JitterBuffer<RtpPacket>;
  private readonly depacketizer: DepacketizeBase;
  private readonly decoder: FfmpegVideoDecoder<number>;
  private readonly frameIntervalUs: number;
  private nextEmitUs = -Infinity;
  private lastKeyframeRequestMs = -Infinity;
  private s = { framesDepacketized: 0, framesDelivered: 0, framesDecimated: 0, keyframeRequests: 0 };

  constructor(private readonly opts: VideoIngestOptions) {
    this.timeline = new RtpTimeline(VIDEO_CLOCK_RATE, opts.clock);
    this.jitter = new JitterBuffer<RtpPacket>({ clockRate: VIDEO_CLOCK_RATE, latencyMs: opts.jitterLatencyMs ?? 100, maxPackets: opts.jitterMaxPackets ?? 512 });
    this.depacketizer = new DepacketizeBase(opts.codec === 'vp8' ? 'VP8' : 'MPEG4/ISO/AVC', {
      isFinalPacketInSequence: (h) => h.marker,
      waitForKeyframe: true,
    });
    this.depacketizer.onNeedKeyFrame.subscribe(() => this.keyframe());
    this.frameIntervalUs = 1e6 / opts.analysisFps;
    this.decoder = new FfmpegVideoDecoder<number>({
      codec: opts.codec,
      width: opts.width,
      height: opts.height,
      wantFrame: (ptsUs) => this.wanted(ptsUs),
      onFrame: (f, ptsUs) => this.emit(f.width, f.height, f.i420, ptsUs),
      onError: (err) => opts.onError?.(err),
    });
  }

  onRtp(rtp: RtpPacket): void {
    for (const out of this.jitter.push(rtp.header.sequenceNumber, rtp.header.timestamp, rtp)) {
      if (out.kind === 'lost') {
        // The frame the lost packet belonged to is broken and so are the frames that refer to it.
        this.keyframe();
        continue;
      }
      const ptsUs = this.timeline.ptsUs(out.ts);
      for (const o of this.depacketizer.processInput({ rtp: out.item, time: ptsUs / 1000 })) {
        if (!o.frame) continue;
        this.s.framesDepacketized++;
        if (!this.decoder.decode(o.frame.data, o.frame.isKeyframe, o.frame.time, Math.round(o.frame.time * 1000)) || this.decoder.needsKeyframe) this.keyframe();
      }
    }
  }

  onSenderReport(ntp: bigint, rtpTs: number): void {
    this.timeline.senderReport(ntp, rtpTs);
  }

  stats(): VideoIngestStats {
    return { ...this.jitter.stats(), codec: this.opts.codec, ...this.s, decoder: this.decoder.stats() };
  }

  close(): void {
    this.decoder.close();
  }

  private keyframe(): void {
    const now = Date.now();
    if (now - this.lastKeyframeRequestMs < 500) return;
    this.lastKeyframeRequestMs = now;
    this.s.keyframeRequests++;
    this.opts.requestKeyframe();
  }

  /** Decimation to the analysis rate, decided as a decoded picture starts so skipped ones cost no allocation. */
  private wanted(ptsUs: number): boolean {
    if (ptsUs < this.nextEmitUs) {
      this.s.framesDecimated++;
      return false;
    }
    // Keep a steady grid, but never try to catch up on frames that are gone.
    this.nextEmitUs = Number.isFinite(this.nextEmitUs)
      ? Math.max(this.nextEmitUs + this.frameIntervalUs, ptsUs + this.frameIntervalUs * 0.5)
      : ptsUs + this.frameIntervalUs;
    return true;
  }

  private emit(width: number, height: number, i420: Buffer, ptsUs: number): void {
    this.s.framesDelivered++;
    this.opts.onFrame({ format: 'i420', width, height, payload: new Uint8Array(i420.buffer, i420.byteOffset, i420.byteLength), ptsUs });
  }
}
