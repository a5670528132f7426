import { JitterBuffer, type JitterStats } from './jitter-buffer.js';
import { OpusPcmDecoder, OPUS_RATE } from './opus-decoder.js';
import { RtpTimeline, type CaptureTime, type SessionClock } from './rtp-timeline.js';

export interface PcmChunk {
  /** Session time of the first sample, µs. */
  ptsUs: number;
  sampleRate: number;
  channels: 1;
  samples: Float32Array;
}

export interface RtpLike {
  header: { sequenceNumber: number; timestamp: number };
  payload: Buffer;
}

export interface AudioIngestOptions {
  clock: SessionClock;
  onPcm: (chunk: PcmChunk) => void;
  /** Longest wait for a missing packet (default 60 ms: three 20 ms Opus frames). */
  jitterLatencyMs?: number;
  /** Bound on the jitter buffer (default 50 packets = 1 s of 20 ms frames). */
  jitterMaxPackets?: number;
  /** Longest hole filled with silence; a longer jump is a discontinuity (default 10 s). */
  maxGapMs?: number;
}

export interface AudioIngestStats extends JitterStats {
  decodedPackets: number;
  decodeErrors: number;
  /** Audio missing because packets were lost or undecodable, filled with silence (ms). */
  missingAudioMs: number;
  /** Silence inserted for timestamp gaps without lost packets (sender DTX), ms. */
  dtxSilenceMs: number;
  discontinuities: number;
  pcmSamples: number;
  /** RFC 3550 interarrival jitter estimate (ms), from arrival times against RTP timestamps. */
  interarrivalJitterMs: number;
}

interface PacketTag {
  ptsUs: number;
  lostBefore: boolean;
}

/**
 * One Opus track: RTP -> bounded jitter buffer -> Opus decode -> contiguous mono 48 kHz PCM on the session clock.
 * Holes are filled with silence so the downstream windower, which counts samples, stays on the session clock; the
 * silence is counted, never hidden.
 */
export class AudioIngest {
  readonly timeline: RtpTimeline;
  private readonly jitter: JitterBuffer<Buffer>;
  private readonly decoder: OpusPcmDecoder<PacketTag>;
  private nextPtsUs: number | null = null;
  private lostPending = false;
  private missingSamples = 0;
  private dtxSamples = 0;
  private discontinuities = 0;
  private pcmSamples = 0;
  private readonly maxGapUs: number;
  private closed = false;

  constructor(private readonly opts: AudioIngestOptions) {
    this.timeline = new RtpTimeline(OPUS_RATE, opts.clock);
    this.jitter = new JitterBuffer<Buffer>({ clockRate: OPUS_RATE, latencyMs: opts.jitterLatencyMs ?? 60, maxPackets: opts.jitterMaxPackets ?? 50 });
    this.decoder = new OpusPcmDecoder<PacketTag>((samples, tag) => this.emit(samples, tag));
    this.maxGapUs = (opts.maxGapMs ?? 10_000) * 1000;
  }

  onRtp(rtp: RtpLike, arrivalMs = performance.now()): void {
    if (this.closed) return;
    this.updateJitter(rtp.header.timestamp, arrivalMs);
    for (const out of this.jitter.push(rtp.header.sequenceNumber, rtp.header.timestamp, rtp.payload)) this.handle(out);
  }

  onSenderReport(ntp: bigint, rtpTs: number): void {
    this.timeline.senderReport(ntp, rtpTs);
  }

  captureTime(ptsUs: number): CaptureTime {
    return this.timeline.captureTime(ptsUs);
  }

  /** Session time just after the last sample delivered, or null before any. */
  get endUs(): number | null {
    return this.nextPtsUs;
  }

  private lastTransit: { ts: number; arrivalMs: number } | null = null;
  private jitterMs = 0;

  /** RFC 3550 section 6.4.1: J += (|D| - J) / 16, D the change in transit time between consecutive packets. */
  private updateJitter(ts: number, arrivalMs: number): void {
    const last = this.lastTransit;
    this.lastTransit = { ts, arrivalMs };
    if (!last) return;
    const mediaMs = (((ts - last.ts) | 0) * 1000) / OPUS_RATE;
    const d = (arrivalMs - last.arrivalMs) - mediaMs;
    this.jitterMs += (Math.abs(d) - this.jitterMs) / 16;
  }

  /** Decodes every packet still in the jitter buffer (end of stream), then releases the decoder. */
  drain(): void {
    if (this.closed) return;
    for (const out of this.jitter.flush()) this.handle(out);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.close();
  }

  stats(): AudioIngestStats {
    const d = this.decoder.stats();
    return {
      ...this.jitter.stats(),
      decodedPackets: d.decodedPackets,
      decodeErrors: d.decodeErrors,
      missingAudioMs: (this.missingSamples * 1000) / OPUS_RATE,
      dtxSilenceMs: (this.dtxSamples * 1000) / OPUS_RATE,
      discontinuities: this.discontinuities,
      pcmSamples: this.pcmSamples,
      interarrivalJitterMs: Math.round(this.jitterMs * 100) / 100,
    };
  }

  private handle(out: ReturnType<JitterBuffer<Buffer>['push']>[number]): void {
    if (out.kind === 'lost') {
      this.lostPending = true;
      return;
    }
    const tag: PacketTag = { ptsUs: this.timeline.ptsUs(out.ts), lostBefore: this.lostPending };
    this.lostPending = false;
    // A corrupt packet becomes a hole, filled (and counted as missing) when the next one decodes.
    if (!this.decoder.decode(out.item, tag)) this.lostPending = true;
  }

  private emit(samples: Float32Array, tag: PacketTag): void {
    let ptsUs = tag.ptsUs;
    if (this.nextPtsUs !== null) {
      const gapUs = ptsUs - this.nextPtsUs;
      const gapSamples = Math.round((gapUs * OPUS_RATE) / 1e6);
      if (gapUs > this.maxGapUs) {
        this.discontinuities++;
      } else if (gapSamples > 0) {
        const silence = new Float32Array(gapSamples);
        if (tag.lostBefore) this.missingSamples += gapSamples;
        else this.dtxSamples += gapSamples;
        this.push(this.nextPtsUs, silence);
      } else if (gapSamples < 0) {
        // Overlap (a sender timestamp glitch): drop the samples already covered so the sample clock stays true.
        const skip = Math.min(samples.length, -gapSamples);
        samples = samples.subarray(skip);
        ptsUs = this.nextPtsUs;
        if (samples.length === 0) return;
      } else {
        ptsUs = this.nextPtsUs;
      }
    }
    this.push(ptsUs, samples);
  }

  private push(ptsUs: number, samples: Float32Array): void {
    this.pcmSamples += samples.length;
    this.nextPtsUs = ptsUs + (samples.length * 1e6) / OPUS_RATE;
    // nextPtsUs keeps the exact sample clock; what leaves is whole microseconds (a 10 ms packet after a gap is not).
    this.opts.onPcm({ ptsUs: Math.round(ptsUs), sampleRate: OPUS_RATE, channels: 1, samples });
  }
}
