import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DepacketizeBase } from 'werift/nonstandard';
import { RtpHeader, RtpPacket } from 'werift';
import { ProtocolError } from '../../../src/protocol/v1/errors.js';
import { packetizeH264, packetizeVp8, splitAnnexB } from '../../../clients/node/rtp-packetize.js';
import { ntpToEpochMs, RtpTimeline, SessionClock } from '../../../src/webrtc/rtp-timeline.js';
import { validateOffer } from '../../../src/webrtc/sdp-offer.js';
import { Y4mParser } from '../../../src/webrtc/y4m-parser.js';

const FP = 'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF';
const offer = (media: string[]) => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', FP, ...media, ''].join('\r\n');

test('validateOffer: accepts opus and VP8/H264, reports what is usable', () => {
  const s = validateOffer(offer([
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'a=sendonly', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 102', 'a=sendonly', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:102 H264/90000',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  ]));
  assert.equal(s.audio, true);
  assert.equal(s.video, true);
  assert.equal(s.dataChannel, true);
  assert.deepEqual(s.sections[1].usable, ['VP8', 'H264']);
});

test('validateOffer: specific errors for each kind of bad offer', () => {
  const code = (sdp: string) => {
    try {
      validateOffer(sdp);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof ProtocolError);
      return `${err.code}:${err.httpStatus}`;
    }
  };
  assert.equal(code(''), 'EMO_ERR_WHIP_BAD_SDP:400');
  assert.equal(code('v=0\r\nthis is not sdp'), 'EMO_ERR_WHIP_BAD_SDP:400');
  assert.equal(code(offer([])), 'EMO_ERR_WHIP_BAD_SDP:400', 'no media section');
  assert.equal(code(offer(['m=audio 9 UDP/TLS/RTP/SAVPF 0', 'a=rtpmap:0 PCMU/8000'])), 'EMO_ERR_WHIP_NO_CODEC:422');
  assert.equal(code(offer(['m=video 9 UDP/TLS/RTP/SAVPF 98', 'a=rtpmap:98 VP9/90000'])), 'EMO_ERR_WHIP_NO_CODEC:422');
  assert.equal(code(offer(['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=recvonly', 'a=rtpmap:111 opus/48000/2'])), 'EMO_ERR_WHIP_NO_CODEC:422', 'nothing to ingest from a recvonly offer');
  assert.equal(code(offer(['m=text 9 RTP/AVP 0'])), 'EMO_ERR_WHIP_BAD_SDP:400');
  assert.equal(code(offer(['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2']).replace(FP + '\r\n', '')), 'EMO_ERR_WHIP_BAD_SDP:400', 'no DTLS fingerprint');
  assert.equal(code('v=0\r\n' + 'a=x\r\n'.repeat(20000)), 'EMO_ERR_WHIP_TOO_LARGE:413');
});

test('ntpToEpochMs converts 64-bit NTP (with its fraction) to Unix ms', () => {
  const epochMs = 1_795_000_000_123.5;
  const s = Math.floor(epochMs / 1000) + 2208988800;
  const frac = Math.round(((epochMs % 1000) / 1000) * 2 ** 32);
  assert.ok(Math.abs(ntpToEpochMs((BigInt(s) << 32n) | BigInt(frac)) - epochMs) < 0.01);
});

test('RtpTimeline: anchors at first arrival, unwraps 32-bit timestamps, maps session time to sender capture time', () => {
  let now = 1_000_000;
  const clock = new SessionClock(() => now);
  const tl = new RtpTimeline(48000, clock, () => now);
  const ts0 = 0xffffff00;
  assert.equal(tl.ptsUs(ts0), 0);
  now += 20;
  assert.equal(tl.ptsUs((ts0 + 960) >>> 0), 20_000, 'across the 2^32 wrap');
  assert.equal(tl.ptsUs((ts0 + 48000) >>> 0), 1_000_000);
  // Before any sender report: capture time falls back to when the packet holding the sample arrived.
  assert.equal(tl.captureTime(10_000).basis, 'arrival');
  // The sender says RTP ts0 + 48000 was captured at epoch 5000 ms (its clock).
  const ntp = (BigInt(5 + 2208988800) << 32n);
  tl.senderReport(ntp, (ts0 + 48000) >>> 0);
  const cap = tl.captureTime(1_000_000);
  assert.equal(cap.basis, 'rtcp-sr');
  assert.ok(Math.abs(cap.epochMs - 5000) < 1e-6);
  assert.ok(Math.abs(tl.captureTime(500_000).epochMs - 4500) < 1e-6);
});

test('Y4mParser reassembles frames split across arbitrary chunks', () => {
  const w = 4;
  const h = 2;
  const frame = (v: number) => Buffer.concat([Buffer.from('FRAME\n'), Buffer.alloc(w * h + 2 * 2 * 1, v)]);
  const stream = Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\n`), frame(1), frame(2), frame(3)]);
  const p = new Y4mParser();
  const frames = [];
  for (let i = 0; i < stream.length; i += 5) frames.push(...p.push(stream.subarray(i, i + 5)));
  assert.deepEqual(frames.map((f) => [f.width, f.height, f.i420.length, f.i420[0]]), [[4, 2, 12, 1], [4, 2, 12, 2], [4, 2, 12, 3]]);
  assert.throws(() => new Y4mParser().push(Buffer.from('GARBAGE W4 H2\n')), /YUV4MPEG2/);
  // Declined pictures are still parsed (framing stays right) but share one scratch buffer.
  let n = 0;
  const picky = new Y4mParser(() => n++ % 2 === 0);
  const got = picky.push(stream);
  assert.deepEqual(got.map((f) => [f.skipped, f.i420[0]]), [[false, 1], [true, 2], [false, 3]]);
});

function depacketize(codec: 'VP8' | 'MPEG4/ISO/AVC', payloads: Buffer[]): Buffer[] {
  const d = new DepacketizeBase(codec, { isFinalPacketInSequence: (hdr) => hdr.marker });
  const out: Buffer[] = [];
  payloads.forEach((p, i) => {
    const rtp = new RtpPacket(new RtpHeader({ sequenceNumber: 100 + i, timestamp: 9000, marker: i === payloads.length - 1 }), p);
    for (const o of d.processInput({ rtp, time: 0 })) if (o.frame) out.push(o.frame.data);
  });
  return out;
}

test('VP8 and H264 packetisers round-trip through werift\'s depacketisers', () => {
  const vp8 = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
  vp8[0] = 0x10; // keyframe bit clear = keyframe
  const vp8Payloads = packetizeVp8(vp8);
  assert.equal(vp8Payloads.length, 3);
  assert.deepEqual(depacketize('VP8', vp8Payloads), [vp8]);

  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 1, 2, 3]);
  const idr = Buffer.concat([Buffer.from([0x65]), Buffer.from(Array.from({ length: 2500 }, (_, i) => (i * 13 + 1) & 0xff))]);
  const annexB = Buffer.concat([Buffer.from([0, 0, 0, 1]), sps, Buffer.from([0, 0, 1]), idr]);
  const nals = splitAnnexB(annexB);
  assert.deepEqual(nals, [sps, idr]);
  const h264Payloads = packetizeH264(nals);
  assert.ok(h264Payloads.length >= 4, 'IDR fragmented as FU-A');
  const [au] = depacketize('MPEG4/ISO/AVC', h264Payloads);
  assert.deepEqual(splitAnnexB(au), [sps, idr]);
});
