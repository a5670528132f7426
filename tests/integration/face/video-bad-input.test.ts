import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { VideoAnalyzer, VideoFrameInput } from '../../../src/contracts/models.js';
import { loadVideoAnalyzer } from '../../../src/face/index.js';

/** Defined behaviour for bad frames, no faces, many faces, faces leaving and coming back; other sessions unaffected. */
const face = readFileSync(new URL('../../fixtures/faces/cremad-1001-neutral.jpg', import.meta.url));
const smile = readFileSync(new URL('../../fixtures/faces/cremad-1001-smile.jpg', import.meta.url));
const jpeg = (payload: Uint8Array, ptsUs = 0): VideoFrameInput => ({ format: 'jpeg', width: 0, height: 0, payload, ptsUs });
const codeIs = (code: string) => (e: Error & { code?: string }) => e.code === code;

let analyzer: VideoAnalyzer;
let blank: Buffer;
let twoFaces: Buffer;

before(async () => {
  analyzer = await loadVideoAnalyzer({ maxFaces: 2, redetectEveryFrames: 5, maxFrameBytes: 2 * 1024 * 1024, maxFramePixels: 2000 * 2000 });
  assert.equal(analyzer.status().available, true, analyzer.status().error);
  blank = await sharp({ create: { width: 480, height: 360, channels: 3, background: { r: 40, g: 160, b: 60 } } }).jpeg().toBuffer();
  // Two people side by side: the neutral face and (mirrored) the smiling one.
  const left = await sharp(face).extract({ left: 100, top: 0, width: 280, height: 360 }).toBuffer();
  const right = await sharp(smile).extract({ left: 100, top: 0, width: 280, height: 360 }).flop().toBuffer();
  twoFaces = await sharp({ create: { width: 560, height: 360, channels: 3, background: '#000' } })
    .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 280, top: 0 }])
    .jpeg()
    .toBuffer();
});

after(async () => {
  await analyzer?.dispose();
});

test('corrupt, empty, oversized and mis-sized frames are refused with specific codes; the stream goes on', async () => {
  const s = analyzer.createStream();
  await assert.rejects(s.analyze(jpeg(face.subarray(0, 300))), codeIs('EMO_ERR_VIDEO_DECODE'));
  await assert.rejects(s.analyze(jpeg(new Uint8Array(0))), codeIs('EMO_ERR_VIDEO_SIZE'));
  await assert.rejects(s.analyze(jpeg(new Uint8Array(3 * 1024 * 1024))), codeIs('EMO_ERR_VIDEO_TOO_LARGE'));
  await assert.rejects(s.analyze({ format: 'rgba', width: 5000, height: 5000, payload: new Uint8Array(100), ptsUs: 0 }), codeIs('EMO_ERR_VIDEO_TOO_LARGE'));
  await assert.rejects(s.analyze({ ...jpeg(face), width: 640, height: 480 }), codeIs('EMO_ERR_VIDEO_SIZE'));
  await assert.rejects(s.analyze({ format: 'i420', width: 480, height: 360, payload: new Uint8Array(1000), ptsUs: 0 }), codeIs('EMO_ERR_VIDEO_SIZE'));
  const ok = await s.analyze(jpeg(face));
  assert.equal(ok.faces.length, 1);
  s.dispose();
});

test('a frame without a face gives faces = [] (not an error)', async () => {
  const s = analyzer.createStream();
  const r = await s.analyze(jpeg(blank));
  assert.deepEqual(r.faces, []);
  assert.ok(r.faceMs > 0);
  s.dispose();
});

test('two faces: both reported (maxFaces 2), distinct stable track ids, largest first', async () => {
  const s = analyzer.createStream();
  const first = await s.analyze(jpeg(twoFaces));
  assert.equal(first.faces.length, 2);
  const ids = first.faces.map((f) => f.trackId);
  assert.notEqual(ids[0], ids[1]);
  assert.ok(first.faces[0].box.width * first.faces[0].box.height >= first.faces[1].box.width * first.faces[1].box.height);
  for (let i = 0; i < 6; i++) {
    const r = await s.analyze(jpeg(twoFaces));
    assert.deepEqual(r.faces.map((f) => f.trackId).sort(), [...ids].sort(), `frame ${i}: same tracks`);
  }
  s.dispose();
});

test('maxFaces 1 on a two-face frame scores only the largest face', async () => {
  const one = await loadVideoAnalyzer({ maxFaces: 1 });
  try {
    const s = one.createStream();
    const r = await s.analyze(jpeg(twoFaces));
    assert.equal(r.faces.length, 1);
    s.dispose();
  } finally {
    await one.dispose();
  }
});

test('a face that leaves and comes back is found again under a new track id', async () => {
  const s = analyzer.createStream();
  const a = await s.analyze(jpeg(face));
  const same = await s.analyze(jpeg(face));
  assert.equal(same.faces[0].trackId, a.faces[0].trackId);
  assert.deepEqual((await s.analyze(jpeg(blank))).faces, []);
  assert.deepEqual((await s.analyze(jpeg(blank))).faces, []);
  // With nobody in view the detector runs every idleDetectEveryFrames (3) frames: found again within 3 frames.
  let back = await s.analyze(jpeg(face));
  for (let i = 0; i < 2 && back.faces.length === 0; i++) back = await s.analyze(jpeg(face));
  assert.equal(back.faces.length, 1);
  assert.notEqual(back.faces[0].trackId, a.faces[0].trackId);
  s.dispose();
});

test('a face sliding out of the frame (crops reaching past the edge) is tracked, then lost, without errors', async () => {
  const s = analyzer.createStream();
  const seen: number[] = [];
  // Shift the picture left in steps: the face (x ~150-330 in the fixture) crosses the left edge and leaves.
  for (let shift = 0; shift <= 400; shift += 40) {
    const wide = await sharp(face).extend({ right: shift, background: '#000' }).toBuffer();
    const shifted = await sharp(wide).extract({ left: shift, top: 0, width: 480, height: 360 }).jpeg().toBuffer();
    const r = await s.analyze(jpeg(shifted));
    seen.push(r.faces.length);
    for (const f of r.faces) for (let i = 0; i < 17; i++) assert.ok(f.aus[i] >= 0 && f.aus[i] <= 5);
  }
  assert.equal(seen[0], 1, 'face present at the start');
  assert.equal(seen.at(-1), 0, 'no face once it has left');
  s.dispose();
});

test('sessions are independent: a bad frame in one does not disturb another interleaved with it', async () => {
  const s1 = analyzer.createStream();
  const s2 = analyzer.createStream();
  const results = await Promise.allSettled([s1.analyze(jpeg(face)), s2.analyze(jpeg(Buffer.from('garbage'))), s1.analyze(jpeg(face)), s2.analyze(jpeg(smile))]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
  assert.equal(results[2].status, 'fulfilled');
  assert.equal(results[3].status, 'fulfilled');
  if (results[0].status === 'fulfilled' && results[3].status === 'fulfilled') {
    assert.equal(results[0].value.faces.length, 1);
    assert.equal(results[3].value.faces.length, 1);
  }
  s1.dispose();
  s2.dispose();
  await assert.rejects(s1.analyze(jpeg(face)), codeIs('EMO_ERR_VIDEO_UNAVAILABLE'));
});

test('bounded queue: beyond maxPendingFrames frames are refused with EMO_ERR_VIDEO_BUSY, the rest are analysed', async () => {
  const small = await loadVideoAnalyzer({ maxPendingFrames: 2, workers: 2 });
  try {
    assert.equal(small.status().details?.workers, 2);
    const s = small.createStream();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => s.analyze(jpeg(face))));
    const busy = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'EMO_ERR_VIDEO_BUSY').length;
    const done = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(busy + done, 6);
    assert.ok(busy >= 1 && done >= 2, `busy ${busy}, done ${done}`);
    s.dispose();
  } finally {
    await small.dispose();
  }
});

test('a hung frame times out with EMO_ERR_VIDEO_INTERNAL, the worker is replaced and later frames are served', async () => {
  const hasty = await loadVideoAnalyzer({ frameTimeoutMs: 1 });
  try {
    const s = hasty.createStream();
    await assert.rejects(s.analyze(jpeg(face)), codeIs('EMO_ERR_VIDEO_INTERNAL'));
    // The next frame starts a fresh worker (and, with this absurd 1 ms limit, times out again: same code, no crash).
    await assert.rejects(s.analyze(jpeg(face)), codeIs('EMO_ERR_VIDEO_INTERNAL'));
    assert.ok(Number(hasty.status().details?.workerRestarts) >= 1);
    s.dispose();
  } finally {
    await hasty.dispose();
  }
});

test('unavailable pipeline: loadVideoAnalyzer never throws, status says why, frames are refused', async () => {
  const broken = await loadVideoAnalyzer({ modelDir: '/nonexistent/models' });
  assert.equal(broken.status().available, false);
  assert.match(broken.status().error ?? '', /nonexistent/);
  await assert.rejects(broken.createStream().analyze(jpeg(face)), codeIs('EMO_ERR_VIDEO_UNAVAILABLE'));
  await broken.dispose();
  const badConfig = await loadVideoAnalyzer({ maxFaces: -1 });
  assert.equal(badConfig.status().available, false);
  assert.match(badConfig.status().error ?? '', /maxFaces/);
});
