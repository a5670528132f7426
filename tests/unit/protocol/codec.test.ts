import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFrame, encodeAudioFrame, encodeAuFrame, encodeVideoFrame, FrameKind, HEADER_BYTES, ProtocolError,
  parseHello, parseClientControl, ERROR_CATALOGUE, ERROR_CODES, rawVideoBytes, type ErrorCode,
} from '../../../src/protocol/v1/index.js';

const LIMIT = 1 << 20;

function code(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${String(err)}`);
    return err.code;
  }
  throw new Error('expected a ProtocolError');
}

test('s16 audio frame round-trips header and samples', () => {
  const pcm = Int16Array.from([0, 16384, -32768, 32767]);
  const f = decodeFrame(encodeAudioFrame({ streamId: 3, seq: 7, ptsUs: 1_234_567_890 }, pcm, 44100, 2), LIMIT);
  assert.equal(f.kind, FrameKind.PcmS16);
  assert.equal(f.streamId, 3);
  assert.equal(f.seq, 7);
  assert.equal(f.ptsUs, 1_234_567_890);
  if (f.kind !== FrameKind.PcmS16) return;
  assert.equal(f.sampleRate, 44100);
  assert.equal(f.channels, 2);
  assert.deepEqual(Array.from(f.samples), [0, 0.5, -1, 32767 / 32768]);
});

test('s16 audio decodes the same from an odd byte offset (no aligned typed view possible) as from an aligned one', () => {
  const pcm = Int16Array.from([1, -2, 300, -32768, 32767, 12345]);
  const frame = encodeAudioFrame({ seq: 1, ptsUs: 0 }, pcm, 16000, 1);
  const shifted = new Uint8Array(frame.byteLength + 1);
  shifted.set(frame, 1);
  const aligned = decodeFrame(frame, LIMIT);
  const unaligned = decodeFrame(shifted.subarray(1), LIMIT);
  if (aligned.kind !== FrameKind.PcmS16 || unaligned.kind !== FrameKind.PcmS16) throw new Error('expected s16 frames');
  assert.deepEqual(Array.from(unaligned.samples), Array.from(pcm, (v) => v / 32768));
  assert.deepEqual(Array.from(aligned.samples), Array.from(unaligned.samples));
});

test('f32 audio and AU frames decode; NaN/Inf rejected', () => {
  const f = decodeFrame(encodeAudioFrame({ seq: 0, ptsUs: 0 }, Float32Array.from([0.25, -0.5]), 16000, 1), LIMIT);
  assert.equal(f.kind, FrameKind.PcmF32);
  assert.equal(code(() => decodeFrame(encodeAudioFrame({ seq: 0, ptsUs: 0 }, Float32Array.from([0, NaN]), 16000, 1), LIMIT)), 'EMO_ERR_NON_FINITE');
  // Intensities 0-5 (the first 17), presences 0-1 (docs/protocol.md).
  const aus = Array.from({ length: 35 }, (_, i) => (i < 17 ? i / 4 : (i - 17) / 17));
  const a = decodeFrame(encodeAuFrame({ seq: 1, ptsUs: 33_000 }, aus), LIMIT);
  assert.equal(a.kind, FrameKind.Au);
  if (a.kind === FrameKind.Au) assert.ok(Math.abs(a.aus[16] - 4) < 1e-6 && Math.abs(a.aus[34] - 1) < 1e-6);
  aus[5] = Infinity;
  assert.equal(code(() => decodeFrame(encodeAuFrame({ seq: 1, ptsUs: 0 }, aus), LIMIT)), 'EMO_ERR_NON_FINITE');
  assert.equal(code(() => decodeFrame(encodeAuFrame({ seq: 1, ptsUs: 0 }, new Array(34).fill(0)), LIMIT)), 'EMO_ERR_AU_LENGTH');
});

test('header-level errors: truncated, too large, version, unknown kind, sample rate', () => {
  assert.equal(code(() => decodeFrame(new Uint8Array(10), LIMIT)), 'EMO_ERR_FRAME_TRUNCATED');
  assert.equal(code(() => decodeFrame(new Uint8Array(LIMIT + 1), LIMIT)), 'EMO_ERR_FRAME_TOO_LARGE');
  const good = encodeAudioFrame({ seq: 0, ptsUs: 0 }, new Int16Array(4), 16000, 1);
  const badVersion = good.slice(); badVersion[0] = 9;
  assert.equal(code(() => decodeFrame(badVersion, LIMIT)), 'EMO_ERR_FRAME_VERSION');
  const badKind = good.slice(); badKind[1] = 77;
  assert.equal(code(() => decodeFrame(badKind, LIMIT)), 'EMO_ERR_UNKNOWN_KIND');
  assert.equal(code(() => decodeFrame(good.subarray(0, HEADER_BYTES + 4), LIMIT)), 'EMO_ERR_FRAME_TRUNCATED');
  assert.equal(code(() => decodeFrame(good.subarray(0, good.length - 1), LIMIT)), 'EMO_ERR_FRAME_TRUNCATED');
  assert.equal(code(() => decodeFrame(encodeAudioFrame({ seq: 0, ptsUs: 0 }, new Int16Array(4), 4000, 1), LIMIT)), 'EMO_ERR_SAMPLE_RATE');
  assert.equal(code(() => decodeFrame(encodeAudioFrame({ seq: 0, ptsUs: 0 }, new Int16Array(4), 96000, 1), LIMIT)), 'EMO_ERR_SAMPLE_RATE');
  const threeCh = good.slice(); threeCh[HEADER_BYTES + 4] = 3;
  assert.equal(code(() => decodeFrame(threeCh, LIMIT)), 'EMO_ERR_SAMPLE_RATE');
});

test('video frames: dimensions must match raw payloads; JPEG needs SOI', () => {
  const i420 = new Uint8Array(rawVideoBytes('i420', 5, 3));
  assert.equal(rawVideoBytes('i420', 5, 3), 15 + 2 * 3 * 2);
  const v = decodeFrame(encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'i420', 5, 3, i420), LIMIT);
  assert.equal(v.kind, FrameKind.VideoI420);
  assert.equal(code(() => decodeFrame(encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'rgba', 4, 4, new Uint8Array(63)), LIMIT)), 'EMO_ERR_VIDEO_DIMENSIONS');
  assert.equal(code(() => decodeFrame(encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'rgba', 0, 4, new Uint8Array(0)), LIMIT)), 'EMO_ERR_VIDEO_DIMENSIONS');
  const jpeg = decodeFrame(encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'jpeg', 64, 48, Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1])), LIMIT);
  assert.equal(jpeg.kind, FrameKind.VideoJpeg);
  assert.equal(code(() => decodeFrame(encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'jpeg', 64, 48, Uint8Array.from([1, 2, 3, 4])), LIMIT)), 'EMO_ERR_FRAME_TRUNCATED');
});

test('hello validation and major-version check', () => {
  assert.equal(parseHello('{"type":"hello","protocol":"1.3","client":"t"}').protocol, '1.3');
  assert.equal(code(() => parseHello('not json')), 'EMO_ERR_BAD_HELLO');
  assert.equal(code(() => parseHello('{"type":"end"}')), 'EMO_ERR_BAD_HELLO');
  assert.equal(code(() => parseHello('{"type":"hello"}')), 'EMO_ERR_BAD_HELLO');
  assert.equal(code(() => parseHello('{"type":"hello","protocol":"2.0"}')), 'EMO_ERR_PROTOCOL_VERSION');
  assert.equal(parseClientControl('{"type":"end"}').type, 'end');
  assert.equal(code(() => parseClientControl('{"type":"dance"}')), 'EMO_ERR_BAD_MESSAGE');
});

test('error catalogue: unique codes and close codes in the application range', () => {
  // HTTP-only codes (WHIP signalling) close no socket: no close code, an HTTP error status instead.
  const entry = (c: (typeof ERROR_CODES)[number]): { closeCode: number | null; close: boolean; httpStatus?: number } => ERROR_CATALOGUE[c];
  const socketCodes = ERROR_CODES.filter((c) => entry(c).closeCode !== null);
  const closeCodes = socketCodes.map((c) => entry(c).closeCode);
  assert.equal(new Set(closeCodes).size, closeCodes.length);
  for (const c of ERROR_CODES) {
    assert.match(c, /^EMO_ERR_[A-Z_]+$/);
    const cc = entry(c).closeCode;
    if (cc === null) {
      const status = entry(c).httpStatus ?? 0;
      assert.ok(status >= 400 && status < 600 && !entry(c).close, `${c}: HTTP-only code with status ${status}`);
      continue;
    }
    assert.ok((cc >= 4000 && cc < 5000) || cc === 1001 || cc === 1011, `${c}: ${cc}`);
  }
});
