import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeFrame } from '../../../src/face/decode.js';
import { i420ByteLength, i420ToRgb, rgbToI420 } from '../../../src/face/i420.js';
import { splitJpegStream } from '../../../src/training/face-eval/clip-frames.js';
import { DEFAULT_FACE_CONFIG } from '../../../src/face/config.js';
import type { VideoFrameInput } from '../../../src/contracts/models.js';

const limits = DEFAULT_FACE_CONFIG;
const face = readFileSync(new URL('../../fixtures/faces/cremad-1001-neutral.jpg', import.meta.url));
const frame = (f: Partial<VideoFrameInput>): VideoFrameInput => ({ format: 'jpeg', width: 0, height: 0, payload: face, ptsUs: 0, ...f });
const rejectsWith = (p: Promise<unknown>, code: string): Promise<void> => assert.rejects(p, (e: Error & { code?: string }) => e.code === code && e.message.length > 10);

test('JPEG decodes to RGB at its own size (declared 0x0 = not declared) and at a declared matching size', async () => {
  const img = await decodeFrame(frame({}), limits);
  assert.equal(img.width, 480);
  assert.equal(img.height, 360);
  assert.equal(img.rgb.length, 480 * 360 * 3);
  assert.equal(img.scale, 1);
  await decodeFrame(frame({ width: 480, height: 360 }), limits);
});

test('large frames are downscaled to maxAnalysisSidePx and report the scale back to sender pixels', async () => {
  const img = await decodeFrame(frame({}), { ...limits, maxAnalysisSidePx: 240 });
  assert.equal(img.width, 240);
  assert.equal(img.height, 180);
  assert.equal(img.scale, 2);
  assert.equal(img.sourceWidth, 480);
});

test('bad input gets specific codes', async () => {
  await rejectsWith(decodeFrame(frame({ payload: new Uint8Array(0) }), limits), 'EMO_ERR_VIDEO_SIZE');
  await rejectsWith(decodeFrame(frame({ payload: face.subarray(0, 200) }), limits), 'EMO_ERR_VIDEO_DECODE');
  await rejectsWith(decodeFrame(frame({ payload: Buffer.from('definitely not an image') }), limits), 'EMO_ERR_VIDEO_DECODE');
  await rejectsWith(decodeFrame(frame({ width: 640, height: 480 }), limits), 'EMO_ERR_VIDEO_SIZE');
  await rejectsWith(decodeFrame(frame({ payload: new Uint8Array(limits.maxFrameBytes + 1) }), limits), 'EMO_ERR_VIDEO_TOO_LARGE');
  await rejectsWith(decodeFrame(frame({ format: 'rgba', width: 100000, height: 100000, payload: new Uint8Array(16) }), limits), 'EMO_ERR_VIDEO_TOO_LARGE');
  await rejectsWith(decodeFrame(frame({ format: 'rgba', width: 4, height: 4, payload: new Uint8Array(63) }), limits), 'EMO_ERR_VIDEO_SIZE');
  await rejectsWith(decodeFrame(frame({ format: 'rgba', width: 0, height: 0, payload: new Uint8Array(64) }), limits), 'EMO_ERR_VIDEO_SIZE');
  await rejectsWith(decodeFrame(frame({ format: 'i420', width: 4, height: 4, payload: new Uint8Array(16) }), limits), 'EMO_ERR_VIDEO_SIZE');
  await rejectsWith(decodeFrame(frame({ format: 'i420', width: -4, height: 4, payload: new Uint8Array(24) }), limits), 'EMO_ERR_VIDEO_SIZE');
  await rejectsWith(decodeFrame(frame({ format: 'png' as 'jpeg' }), limits), 'EMO_ERR_VIDEO_FORMAT');
  const png = await sharp(face).png().toBuffer();
  await rejectsWith(decodeFrame(frame({ payload: png }), limits), 'EMO_ERR_VIDEO_FORMAT');
});

test('RGBA and I420 frames decode to the same picture as the JPEG', async () => {
  const ref = await decodeFrame(frame({}), limits);
  const rgba = await sharp(ref.rgb, { raw: { width: 480, height: 360, channels: 3 } }).ensureAlpha().raw().toBuffer();
  const fromRgba = await decodeFrame(frame({ format: 'rgba', width: 480, height: 360, payload: rgba }), limits);
  assert.deepEqual(Buffer.from(fromRgba.rgb), Buffer.from(ref.rgb));
  const yuv = rgbToI420(ref.rgb, 480, 360);
  assert.equal(yuv.length, i420ByteLength(480, 360));
  const fromI420 = await decodeFrame(frame({ format: 'i420', width: 480, height: 360, payload: yuv }), limits);
  let err = 0;
  for (let i = 0; i < ref.rgb.length; i++) err += Math.abs(ref.rgb[i] - fromI420.rgb[i]);
  assert.ok(err / ref.rgb.length < 6, `mean abs error after the 4:2:0 round trip ${err / ref.rgb.length}`);
});

test('I420 with odd sizes: chroma planes round up', () => {
  assert.equal(i420ByteLength(3, 3), 9 + 2 * 4);
  const rgb = i420ToRgb(new Uint8Array(i420ByteLength(3, 3)).fill(128), 3, 3);
  assert.equal(rgb.length, 27);
});

test('splitJpegStream cuts a concatenated MJPEG stream into frames', () => {
  const parts = splitJpegStream(Buffer.concat([face, face, face]));
  assert.equal(parts.length, 3);
  assert.deepEqual(parts[2], face);
});

test('cropResize: a box reaching past the frame edge is padded with black; a box outside the frame gives null', async () => {
  const { cropResize, resizeFrame } = await import('../../../src/face/crop.js');
  const white = { rgb: new Uint8Array(100 * 80 * 3).fill(255), width: 100, height: 80, scale: 1, sourceWidth: 100, sourceHeight: 80 };
  const crop = await cropResize(white, { x0: -50, y0: 0, x1: 50, y1: 100 }, 10);
  assert.ok(crop);
  assert.equal(crop.length, 10 * 10 * 3);
  assert.equal(crop[0], 0, 'left half outside the frame is black');
  assert.equal(crop[(2 * 10 + 8) * 3], 255, 'inside the frame keeps the picture');
  assert.equal(crop[(9 * 10 + 8) * 3], 0, 'below the frame is black');
  assert.equal(await cropResize(white, { x0: 200, y0: 0, x1: 300, y1: 100 }, 10), null);
  assert.equal((await resizeFrame(white, 16)).length, 16 * 16 * 3);
});
