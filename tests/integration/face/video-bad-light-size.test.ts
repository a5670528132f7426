import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { VideoAnalyzer, VideoFrameInput } from '../../../src/contracts/models.js';
import { loadVideoAnalyzer } from '../../../src/face/index.js';

/**
 * Issue 20's bad input for the face pipeline and driver state: very dark and overexposed frames, a still photo for a
 * minute, no face for two minutes, a 1x1 frame and a 4096x2304 frame: each a defined result, never a crash.
 */
const face = readFileSync(new URL('../../fixtures/faces/cremad-1001-neutral.jpg', import.meta.url));
const jpeg = (payload: Uint8Array, ptsUs = 0): VideoFrameInput => ({ format: 'jpeg', width: 0, height: 0, payload, ptsUs });
const finite = (v: ArrayLike<number>) => Array.from(v).every(Number.isFinite);

let analyzer: VideoAnalyzer;
before(async () => {
  analyzer = await loadVideoAnalyzer({ maxFaces: 2 });
  assert.equal(analyzer.status().available, true, analyzer.status().error);
});
after(async () => {
  await analyzer?.dispose();
});

test('very dark and overexposed frames: analysed without error; a face found there has finite AUs and state', async () => {
  for (const [name, gain] of [['dark (5 %)', 0.05], ['overexposed (x4)', 4]] as const) {
    const frame = await sharp(face).linear(gain, 0).jpeg().toBuffer();
    const s = analyzer.createStream();
    for (let k = 0; k < 3; k++) {
      const r = await s.analyze(jpeg(frame, k * 100_000));
      assert.ok(r.faces.length <= 1, name);
      for (const f of r.faces) assert.ok(finite(f.aus) && f.driver && finite([f.driver.ear.left, f.driver.perclos]), name);
    }
    s.dispose();
  }
});

test('a still photo for a minute (2 fps): tracked throughout, no blinks, PERCLOS 0, no error', async () => {
  const s = analyzer.createStream();
  let last;
  for (let k = 0; k < 120; k++) last = await s.analyze(jpeg(face, k * 500_000));
  assert.equal(last!.faces.length, 1);
  const state = last!.faces[0].driver!;
  assert.equal(state.blinks, 0);
  assert.equal(state.blinksPerMinute, 0);
  assert.equal(state.perclos, 0);
  assert.equal(state.perclosWindowMs, 59_500);
  s.dispose();
});

test('no face for two minutes (1 fps), then a face: empty results throughout, the face found when it comes', async () => {
  const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 90, g: 90, b: 90 } } }).jpeg().toBuffer();
  const s = analyzer.createStream();
  for (let k = 0; k < 120; k++) assert.deepEqual((await s.analyze(jpeg(blank, k * 1_000_000))).faces, []);
  let found = 0;
  for (let k = 0; k < 3; k++) found += (await s.analyze(jpeg(face, 120_000_000 + k * 100_000))).faces.length;
  assert.ok(found >= 2, `face found in ${found} of 3 frames after the empty minutes`);
  s.dispose();
});

test('1x1 frames give no face (not an error); a 4096x2304 frame is analysed at 640 px and reported in its own pixels', async () => {
  const s = analyzer.createStream();
  const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#888' } }).jpeg().toBuffer();
  assert.deepEqual((await s.analyze(jpeg(tiny))).faces, []);
  assert.deepEqual((await s.analyze({ format: 'rgba', width: 1, height: 1, payload: new Uint8Array(4), ptsUs: 100_000 })).faces, []);
  s.dispose();
  const big = await sharp(face).resize(4096, 2304, { fit: 'fill' }).jpeg({ quality: 70 }).toBuffer();
  const b = analyzer.createStream();
  const r = await b.analyze(jpeg(big));
  assert.equal(r.faces.length, 1);
  assert.ok(r.faces[0].box.width > 600, `box in the sender's pixels: ${JSON.stringify(r.faces[0].box)}`);
  b.dispose();
});
