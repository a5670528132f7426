import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkAuVector, checkFloatAudio, decodeFrame, encodeAudioFrame, encodeAuFrame, encodeVideoFrame, FLOAT_AUDIO_TOLERANCE, HEADER_BYTES,
  MAX_ABS_PTS_US, rawVideoBytes,
} from '../../../src/protocol/v1/frames.js';
import { ProtocolError } from '../../../src/protocol/v1/errors.js';
import { codeOf } from '../../helpers/protocol-error.js';

const LIMIT = 1 << 20;
const inRange = (): number[] => Array.from({ length: 35 }, (_, i) => (i < 17 ? 5 : 1));

test('AU values: intensities 0-5 and presences 0-1 pass, anything outside is EMO_ERR_OUT_OF_RANGE', () => {
  assert.equal(codeOf(() => decodeFrame(encodeAuFrame({ seq: 0, ptsUs: 0 }, inRange()), LIMIT)), null, 'the top of each range is allowed');
  assert.equal(codeOf(() => decodeFrame(encodeAuFrame({ seq: 0, ptsUs: 0 }, new Array(35).fill(0)), LIMIT)), null);
  for (const [index, value] of [[0, 1e6], [16, 5.001], [3, -0.01], [17, 1.01], [34, 2], [20, 3.4e38], [5, -3.4e38]] as const) {
    const aus = inRange();
    aus[index] = value;
    const err = (() => { try { decodeFrame(encodeAuFrame({ seq: 0, ptsUs: 0 }, aus), LIMIT); } catch (e) { return e as ProtocolError; } return null; })();
    assert.equal(err?.code, 'EMO_ERR_OUT_OF_RANGE', `AU[${index}] = ${value}`);
    assert.match(err!.message, new RegExp(`AU value ${index} `));
  }
  assert.equal(codeOf(() => checkAuVector(Float32Array.from({ length: 35 }, (_, i) => (i === 2 ? NaN : 0)))), 'EMO_ERR_NON_FINITE');
  assert.equal(codeOf(() => checkAuVector(new Float32Array(34))), 'EMO_ERR_AU_LENGTH');
});

test('float audio: [-1, 1] plus the tolerance passes; ±1e30 and 1.5 are EMO_ERR_OUT_OF_RANGE; s16 is always in range', () => {
  const edge = 1 + FLOAT_AUDIO_TOLERANCE * 0.9;
  assert.equal(codeOf(() => decodeFrame(encodeAudioFrame({ seq: 0, ptsUs: 0 }, Float32Array.from([1, -1, edge, -edge]), 16000, 1), LIMIT)), null);
  for (const bad of [1e30, -1e30, 1.5, -(1 + FLOAT_AUDIO_TOLERANCE * 2)]) {
    assert.equal(codeOf(() => decodeFrame(encodeAudioFrame({ seq: 0, ptsUs: 0 }, Float32Array.from([0, bad]), 16000, 1), LIMIT)), 'EMO_ERR_OUT_OF_RANGE', String(bad));
  }
  assert.equal(codeOf(() => checkFloatAudio(Float32Array.from([0, -Infinity]))), 'EMO_ERR_NON_FINITE');
  assert.equal(codeOf(() => decodeFrame(encodeAudioFrame({ seq: 0, ptsUs: 0 }, Int16Array.from([-32768, 32767]), 16000, 1), LIMIT)), null);
});

test('ptsUs: exact integers up to ±(2^53 - 1) pass; beyond (up to 2^63 - 1 on the wire) is EMO_ERR_OUT_OF_RANGE', () => {
  const frame = encodeAuFrame({ seq: 0, ptsUs: 0 }, inRange());
  const withPts = (pts: bigint) => {
    const f = frame.slice();
    new DataView(f.buffer).setBigInt64(8, pts, true);
    return f;
  };
  assert.equal(decodeFrame(withPts(BigInt(MAX_ABS_PTS_US)), LIMIT).ptsUs, MAX_ABS_PTS_US);
  assert.equal(decodeFrame(withPts(-BigInt(MAX_ABS_PTS_US)), LIMIT).ptsUs, -MAX_ABS_PTS_US);
  for (const pts of [BigInt(MAX_ABS_PTS_US) + 1n, 9_000_000_000_000_000_000n, (1n << 63n) - 1n, -(1n << 63n)]) {
    assert.equal(codeOf(() => decodeFrame(withPts(pts), LIMIT)), 'EMO_ERR_OUT_OF_RANGE', String(pts));
  }
  // Every kind reads the same header.
  const i420 = encodeVideoFrame({ seq: 0, ptsUs: 0 }, 'i420', 4, 4, new Uint8Array(rawVideoBytes('i420', 4, 4)));
  new DataView(i420.buffer).setBigInt64(8, 9_000_000_000_000_000_000n, true);
  assert.equal(codeOf(() => decodeFrame(i420, LIMIT)), 'EMO_ERR_OUT_OF_RANGE');
  assert.equal(HEADER_BYTES, 16);
});
