/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2208988800;

/** Converts a 64-bit NTP timestamp (RTCP sender report) to Unix epoch milliseconds. */
export function ntpToEpochMs(ntp: bigint): number {
  const seconds = Number(ntp >> 32n);
  const fraction = Number(ntp & 0xffffffffn) / 2 ** 32;
  return (seconds - NTP_UNIX_OFFSET_S + fraction) * 1000;
}

/**
 * The session clock of one WebRTC session: microseconds since the first RTP packet of any track arrived. Every
 * track is anchored on it by its own first packet's arrival, so audio and video share one timeline the way the
 * WebSocket path shares the client's clock.
 */
export class SessionClock {
  private originEpochMs: number | null = null;
  constructor(private readonly nowEpochMs: () => number = Date.now) {}

  /** Session time of "now" in µs; the first call fixes the origin. */
  nowUs(): number {
    const now = this.nowEpochMs();
    if (this.originEpochMs === null) this.originEpochMs = now;
    return Math.round((now - this.originEpochMs) * 1000);
  }

  get origin(): number | null {
    return this.originEpochMs;
  }
}

export interface CaptureTime {
  /** When the sample at that session time was captured, Unix ms, on the sender's clock. */
  epochMs: number;
  /** 'rtcp-sr': from the sender's RTCP sender reports (the browser's own clock); 'arrival': estimated from packet arrival. */
  basis: 'rtcp-sr' | 'arrival';
}

/**
 * Maps one track's 32-bit RTP timestamps onto the session clock (unwrapping them) and, once the sender has sent an
 * RTCP sender report, maps session time back to the sender's capture clock, which is what end-to-end latency is
 * measured from. Pure; the caller passes arrival times.
 */
export class RtpTimeline {
  private firstTs: number | null = null;
  private lastTs = 0;
  private lastExt = 0;
  private anchorUs = 0;
  private sr: { ext: number; epochMs: number } | null = null;
  /** Recent (session time, arrival time) pairs, for the capture-time fallback before any sender report. */
  private readonly arrivals: { ptsUs: number; epochMs: number }[] = [];
  private static readonly MAX_ARRIVALS = 512;

  constructor(readonly clockRate: number, private readonly clock: SessionClock, private readonly nowEpochMs: () => number = Date.now) {}

  private noteArrival(ptsUs: number): number {
    const last = this.arrivals[this.arrivals.length - 1];
    if (!last || ptsUs > last.ptsUs) {
      this.arrivals.push({ ptsUs, epochMs: this.nowEpochMs() });
      if (this.arrivals.length > RtpTimeline.MAX_ARRIVALS) this.arrivals.shift();
    }
    return ptsUs;
  }

  /** Extended (unwrapped) timestamp relative to the track's first packet. */
  private extend(ts: number): number {
    const delta = ((ts - this.lastTs) | 0);
    // Only move the reference forward so a reordered old packet does not drag it back.
    const ext = this.lastExt + delta;
    if (delta > 0) {
      this.lastTs = ts >>> 0;
      this.lastExt = ext;
    }
    return ext;
  }

  /** Session time (µs) of the sample with RTP timestamp `ts`. The first call anchors the track at its arrival time. */
  ptsUs(ts: number): number {
    if (this.firstTs === null) {
      this.firstTs = ts >>> 0;
      this.lastTs = ts >>> 0;
      this.lastExt = 0;
      this.anchorUs = this.clock.nowUs();
      return this.noteArrival(this.anchorUs);
    }
    // Whole microseconds (the protocol's unit): a 90 kHz tick is 11.1 µs.
    return this.noteArrival(Math.round(this.anchorUs + (this.extend(ts) * 1e6) / this.clockRate));
  }

  get started(): boolean {
    return this.firstTs !== null;
  }

  /** Records an RTCP sender report: NTP time `ntp` (sender's wall clock) corresponds to RTP timestamp `rtpTs`. */
  senderReport(ntp: bigint, rtpTs: number): void {
    if (this.firstTs === null) return;
    this.sr = { ext: this.extend(rtpTs), epochMs: ntpToEpochMs(ntp) };
  }

  /** When the sample at session time `ptsUs` was captured by the sender. */
  captureTime(ptsUs: number): CaptureTime {
    if (this.sr) {
      const ext = ((ptsUs - this.anchorUs) * this.clockRate) / 1e6;
      return { epochMs: this.sr.epochMs + ((ext - this.sr.ext) * 1000) / this.clockRate, basis: 'rtcp-sr' };
    }
    // No sender report yet: when the packet holding that sample reached us (later than its capture by the network and
    // packetisation delay, so latencies on this basis are slight underestimates).
    for (let i = this.arrivals.length - 1; i >= 0; i--) {
      if (this.arrivals[i].ptsUs < ptsUs) return { epochMs: this.arrivals[i].epochMs, basis: 'arrival' };
    }
    return { epochMs: (this.clock.origin ?? this.nowEpochMs()) + ptsUs / 1000, basis: 'arrival' };
  }
}
