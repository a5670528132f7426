/**
 * A bounded RTP jitter buffer: reorders packets by sequence number and gives up on a missing packet once the buffer
 * holds more than `latencyMs` of later media or more than `maxPackets` packets. Written here rather than taken from
 * werift/nonstandard because werift's JitterBufferBase, after a timeout, emits the packets that timed out and the new
 * one but strands the buffered packets in between, and scans the whole buffer per packet. Pure and synchronous.
 */

export interface JitterBufferOptions {
  /** RTP clock rate of the track (48000 for Opus, 90000 for video). */
  clockRate: number;
  /** Longest wait for a missing packet, in media time buffered behind it. */
  latencyMs: number;
  /** Hard bound on buffered packets (the queue never grows past this). */
  maxPackets: number;
}

export type JitterOutput<T> = { kind: 'packet'; seq: number; ts: number; item: T } | { kind: 'lost'; count: number };

export interface JitterStats {
  received: number;
  delivered: number;
  /** Packets never received (declared lost when the wait ran out). */
  lost: number;
  /** Packets that arrived after their slot was given up or already delivered. */
  late: number;
  duplicates: number;
  /** Sequence jumps too large to wait for (sender restart); the buffer re-anchored. */
  resets: number;
  depth: number;
  maxDepth: number;
}

interface Slot<T> {
  ts: number;
  item: T;
}

export class JitterBuffer<T> {
  private nextSeq: number | null = null;
  private lastSeq16 = 0;
  private lastExt = 0;
  private newestTs = 0;
  private readonly slots = new Map<number, Slot<T>>();
  private readonly latencyTicks: number;
  private readonly s: Omit<JitterStats, 'depth'> = { received: 0, delivered: 0, lost: 0, late: 0, duplicates: 0, resets: 0, maxDepth: 0 };

  constructor(private readonly opts: JitterBufferOptions) {
    if (opts.maxPackets < 1) throw new RangeError('maxPackets must be >= 1');
    this.latencyTicks = (opts.latencyMs * opts.clockRate) / 1000;
  }

  /** 16-bit sequence number -> extended sequence number (handles wrap-around in both directions). */
  private extend(seq16: number): number {
    const delta = ((seq16 - this.lastSeq16 + 0x8000) & 0xffff) - 0x8000;
    const ext = this.lastExt + delta;
    if (delta > 0) {
      this.lastSeq16 = seq16;
      this.lastExt = ext;
    }
    return ext;
  }

  push(seq16: number, ts: number, item: T): JitterOutput<T>[] {
    this.s.received++;
    const out: JitterOutput<T>[] = [];
    if (this.nextSeq === null) {
      this.lastSeq16 = seq16 & 0xffff;
      this.lastExt = 0;
      this.nextSeq = 0;
      this.newestTs = ts;
    }
    const ext = this.extend(seq16 & 0xffff);
    if (ext < this.nextSeq) {
      this.s.late++;
      return out;
    }
    if (this.slots.has(ext)) {
      this.s.duplicates++;
      return out;
    }
    if (ext - this.nextSeq > 4 * this.opts.maxPackets + 100) {
      // A jump far beyond anything we could wait for: deliver what we hold and re-anchor on this packet.
      this.drainAll(out);
      this.s.resets++;
      this.nextSeq = ext;
    }
    this.slots.set(ext, { ts, item });
    if (((ts - this.newestTs) | 0) > 0) this.newestTs = ts;
    this.drain(out);
    while (this.slots.size > 0 && (this.slots.size > this.opts.maxPackets || this.waitedTooLong())) {
      this.skipToOldest(out);
      this.drain(out);
    }
    this.s.maxDepth = Math.max(this.s.maxDepth, this.slots.size);
    return out;
  }

  /** Emits everything still buffered, in order, declaring the holes lost (end of stream). */
  flush(): JitterOutput<T>[] {
    const out: JitterOutput<T>[] = [];
    this.drainAll(out);
    return out;
  }

  stats(): JitterStats {
    return { ...this.s, depth: this.slots.size };
  }

  private drain(out: JitterOutput<T>[]): void {
    for (;;) {
      const slot = this.slots.get(this.nextSeq!);
      if (!slot) return;
      this.slots.delete(this.nextSeq!);
      out.push({ kind: 'packet', seq: this.nextSeq! & 0xffff, ts: slot.ts, item: slot.item });
      this.s.delivered++;
      this.nextSeq!++;
    }
  }

  private drainAll(out: JitterOutput<T>[]): void {
    while (this.slots.size > 0) {
      this.skipToOldest(out);
      this.drain(out);
    }
  }

  private oldestBuffered(): number {
    let min = Infinity;
    for (const k of this.slots.keys()) if (k < min) min = k;
    return min;
  }

  /** The oldest buffered packet has waited for the hole before it longer than the latency budget. */
  private waitedTooLong(): boolean {
    const oldest = this.slots.get(this.oldestBuffered());
    return oldest !== undefined && ((this.newestTs - oldest.ts) | 0) >= this.latencyTicks;
  }

  private skipToOldest(out: JitterOutput<T>[]): void {
    const oldest = this.oldestBuffered();
    const missing = oldest - this.nextSeq!;
    if (missing > 0) {
      out.push({ kind: 'lost', count: missing });
      this.s.lost += missing;
    }
    this.nextSeq = oldest;
  }
}
