import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { initTf } from '../../../src/training/tf.js';
import { resolveFaceConfig } from '../../../src/face/config.js';
import { FaceEngine } from '../../../src/face/engine.js';
import { defaultModelDir, FaceModels } from '../../../src/face/face-models.js';
import type { VideoFrameInput } from '../../../src/contracts/models.js';

/** The worker's batched pass, in-process: frames of several streams in one FaceMesh call, errors kept per frame. */
const fix = (n: string): Buffer => readFileSync(new URL(`../../fixtures/faces/${n}`, import.meta.url));
const jpeg = (payload: Uint8Array): VideoFrameInput => ({ format: 'jpeg', width: 0, height: 0, payload, ptsUs: 0 });
let engine: FaceEngine;

before(async () => {
  const tf = await initTf();
  engine = new FaceEngine(tf, await FaceModels.load(tf, defaultModelDir(), true), resolveFaceConfig({}));
});

test('a batch of three streams: two faces analysed together, the corrupt frame fails alone', async () => {
  const out = await engine.analyzeBatch([
    { streamId: 'a', frame: jpeg(fix('cremad-1001-neutral.jpg')) },
    { streamId: 'b', frame: jpeg(Buffer.from('not a jpeg')) },
    { streamId: 'c', frame: jpeg(fix('cremad-1001-smile.jpg')) },
  ]);
  const [a, b, c] = out;
  assert.ok(!(a instanceof Error) && !(c instanceof Error));
  assert.ok(b instanceof Error && (b as Error & { code?: string }).code === 'EMO_ERR_VIDEO_DECODE');
  if (a instanceof Error || c instanceof Error) return;
  assert.equal(a.faces.length, 1);
  assert.equal(c.faces.length, 1);
  assert.equal(a.batchFrames, 3);
  // Batched landmarks equal single-frame landmarks (same crops, same network).
  const single = await engine.analyze('a2', jpeg(fix('cremad-1001-neutral.jpg')));
  let maxDiff = 0;
  for (let i = 0; i < single.faces[0].mesh.length; i++) maxDiff = Math.max(maxDiff, Math.abs(single.faces[0].mesh[i] - a.faces[0].mesh[i]));
  assert.ok(maxDiff < 0.5, `batched vs single landmarks differ by ${maxDiff} px`);
  // Expression posterior present for both (first frame of each track).
  assert.ok(a.faces[0].expression && c.faces[0].expression);
});

test('one frame per stream per batch', async () => {
  await assert.rejects(engine.analyzeBatch([{ streamId: 'x', frame: jpeg(fix('cremad-1001-neutral.jpg')) }, { streamId: 'x', frame: jpeg(fix('cremad-1001-neutral.jpg')) }]), /one frame per stream/);
});

test('expression net runs every 2nd frame per track; between, the last posterior is kept', async () => {
  const frames = [fix('cremad-1001-neutral.jpg'), fix('cremad-1001-smile.jpg'), fix('cremad-1001-smile.jpg')];
  const posts: Float32Array[] = [];
  for (const f of frames) {
    const r = await engine.analyze('expr', jpeg(f));
    posts.push(r.faces[0].expression!);
  }
  assert.deepEqual(Array.from(posts[1]), Array.from(posts[0]), 'frame 2 reuses frame 1');
  assert.notDeepEqual(Array.from(posts[2]), Array.from(posts[0]), 'frame 3 is a fresh pass on the smile');
});
