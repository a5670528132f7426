import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { EmoStreamClient, type EmotionResult } from '../../../clients/node/index.js';
import { loadVideoAnalyzer } from '../../../src/face/index.js';
import { pickFaceConfig } from '../../../src/face/config.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { tinyLoaders } from '../../helpers/tiny-models.js';

/**
 * The real face pipeline (src/face, worker thread, real models) behind the real server: a corrupt JPEG over the
 * socket gets the face pipeline's own code (EMO_ERR_VIDEO_DECODE), the session goes on, real face frames give
 * results with faces and the window's mean AUs; models.video settings reach loadVideoAnalyzer.
 */
const face = readFileSync(new URL('../../fixtures/faces/cremad-1001-neutral.jpg', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ts: TestServer;
let loaderConfig: unknown = null;
before(async () => {
  ts = await startTestServer('uws', { streaming: { videoAnalysisFps: 10 }, models: { video: { maxFaces: 2, redetectEveryFrames: 5, expressionEveryFrames: 3 } } }, {
    ...tinyLoaders(),
    video: async (config) => {
      loaderConfig = config;
      return loadVideoAnalyzer(config as Parameters<typeof loadVideoAnalyzer>[0]);
    },
  });
});
after(async () => { await ts?.close(); });

test('models.video settings reach loadVideoAnalyzer(config)', () => {
  const picked = pickFaceConfig(loaderConfig);
  assert.equal(picked.maxFaces, 2);
  assert.equal(picked.redetectEveryFrames, 5);
  assert.equal(picked.expressionEveryFrames, 3);
});

test('corrupt JPEG over a real socket -> EMO_ERR_VIDEO_DECODE from the face pipeline; the session goes on with faces and AU means', async () => {
  const { width, height } = await sharp(face).metadata();
  const c = await EmoStreamClient.connect({ url: ts.url });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  // Starts like a JPEG (passes the protocol's SOI check), then stops: only the decoder can tell.
  c.sendVideo('jpeg', width!, height!, face.subarray(0, 300), 0);
  for (let k = 1; k <= 8; k++) {
    await sleep(k === 1 ? 300 : 80);
    c.sendVideo('jpeg', width!, height!, face, k * 100_000);
  }
  await sleep(300);
  await c.end();
  await reader;
  assert.deepEqual(c.errors.map((e) => e.code), ['EMO_ERR_VIDEO_DECODE'], JSON.stringify(c.errors));
  assert.match(c.errors[0].message, /video frame at 0 us/);
  const withFace = results.filter((r) => r.faces && r.faces.count === 1);
  assert.ok(withFace.length >= 1, `results: ${JSON.stringify(results.map((r) => r.faces))}`);
  for (const r of withFace) {
    assert.equal(r.aus!.mean.length, 35);
    assert.ok(r.aus!.mean.every((v) => Number.isFinite(v) && v >= 0 && v <= 5));
    assert.ok(r.face && r.face.frames >= 1, 'the analysed AUs fed the face model');
  }
  assert.equal(results[results.length - 1].final, true);
});
