/**
 * RTP payload packetisers for the Node WHIP client (tests and benchmarks), the inverse of werift's depacketisers the
 * server uses: VP8 (RFC 7741, minimal payload descriptor) and H264 (RFC 6184, single NAL unit and FU-A).
 */

export const MAX_RTP_PAYLOAD = 1100;

/** One VP8 frame -> payloads; the first carries S=1 (start of partition 0). */
export function packetizeVp8(frame: Buffer, maxPayload = MAX_RTP_PAYLOAD): Buffer[] {
  const out: Buffer[] = [];
  const chunk = maxPayload - 1;
  for (let off = 0; off < frame.length; off += chunk) {
    out.push(Buffer.concat([Buffer.from([off === 0 ? 0x10 : 0x00]), frame.subarray(off, off + chunk)]));
  }
  return out;
}

/** Splits an Annex B byte stream at start codes (00 00 01 or 00 00 00 01) into NAL units without start codes. */
export function splitAnnexB(stream: Buffer): Buffer[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0) {
      if (stream[i + 2] === 1) {
        starts.push({ at: i, len: 3 });
        i += 2;
      } else if (stream[i + 2] === 0 && stream[i + 3] === 1) {
        starts.push({ at: i, len: 4 });
        i += 3;
      }
    }
  }
  return starts.map((s, k) => stream.subarray(s.at + s.len, k + 1 < starts.length ? starts[k + 1].at : stream.length)).filter((n) => n.length > 0);
}

/** One H264 access unit (its NAL units) -> payloads: small NALs whole, large ones as FU-A fragments. */
export function packetizeH264(nals: Buffer[], maxPayload = MAX_RTP_PAYLOAD): Buffer[] {
  const out: Buffer[] = [];
  for (const nal of nals) {
    const type = nal[0] & 0x1f;
    if (type === 9) continue; // access unit delimiters carry nothing the receiver needs
    if (nal.length <= maxPayload) {
      out.push(nal);
      continue;
    }
    const indicator = (nal[0] & 0xe0) | 28;
    const body = nal.subarray(1);
    const chunk = maxPayload - 2;
    for (let off = 0; off < body.length; off += chunk) {
      const start = off === 0 ? 0x80 : 0;
      const end = off + chunk >= body.length ? 0x40 : 0;
      out.push(Buffer.concat([Buffer.from([indicator, start | end | type]), body.subarray(off, off + chunk)]));
    }
  }
  return out;
}

/** Splits an Annex B stream encoded with access unit delimiters (x264 aud=1) into access units. */
export function splitAccessUnits(stream: Buffer): Buffer[][] {
  const units: Buffer[][] = [];
  let cur: Buffer[] = [];
  for (const nal of splitAnnexB(stream)) {
    if ((nal[0] & 0x1f) === 9 && cur.length > 0) {
      units.push(cur);
      cur = [];
    }
    cur.push(nal);
  }
  if (cur.length > 0) units.push(cur);
  return units.filter((u) => u.some((n) => { const t = n[0] & 0x1f; return t === 1 || t === 5; }));
}
