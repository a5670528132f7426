import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { EmoStreamClient, EmoSubscriber, type EmotionResult } from '../../../clients/node/index.js';
import { loadVideoAnalyzer } from '../../../src/face/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { tinyLoaders } from '../../helpers/tiny-models.js';

/**
 * Per-face results and driver state through the real server and face pipeline (protocol 1.1): asked for in hello or
 * by a subscriber; committed CREMA-D frames (neutral, eyes closed, open mouth; tests/fixtures/faces).
 */
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/faces/cremad-1001-${name}.jpg`, import.meta.url));
const neutral = fixture('neutral'), closed = fixture('eyes-closed'), mouth = fixture('open-mouth');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ts: TestServer;
before(async () => {
  // The test sends minutes of synthetic video as fast as it can: lift the real-time limit (tested on its own elsewhere).
  ts = await startTestServer('uws', { streaming: { videoAnalysisFps: 10 }, server: { maxRealtimeFactor: 10000, realtimeBurstMs: 3_600_000 } }, { ...tinyLoaders(), video: async (config) => loadVideoAnalyzer(config as Parameters<typeof loadVideoAnalyzer>[0]) });
});
after(async () => { await ts?.close(); });

async function run(frames: Buffer[], opts: { driverState?: boolean; subscriberDriverState?: boolean } = {}) {
  const { width, height } = await sharp(neutral).metadata();
  const c = await EmoStreamClient.connect({ url: ts.url, driverState: opts.driverState });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  const sub = opts.subscriberDriverState !== undefined ? await EmoSubscriber.connect(ts.url, c.sessionId, 10000, { driverState: opts.subscriberDriverState }) : null;
  const subResults: EmotionResult[] = [];
  const subReader = sub ? (async () => { for await (const m of sub.messages()) if (m.type === 'emotion') subResults.push(m as EmotionResult); })() : null;
  if (sub) await sleep(100);
  for (const [k, f] of frames.entries()) {
    await sleep(60);
    c.sendVideo('jpeg', width!, height!, f, k * 100_000);
  }
  await sleep(300);
  await c.end();
  await reader;
  await subReader;
  return { results, subResults, errors: c.errors };
}

test('hello driverState: every face of a window with its box, posterior and driver state; secondsWithoutFace', async () => {
  const frames = [...Array(10).fill(neutral), ...Array(5).fill(closed), ...Array(5).fill(mouth)];
  const { results, errors } = await run(frames, { driverState: true });
  assert.deepEqual(errors, []);
  const withFaces = results.filter((r) => r.faceTracks && r.faceTracks.length > 0);
  assert.ok(withFaces.length >= 2, JSON.stringify(results.map((r) => r.faceTracks)));
  for (const r of withFaces) {
    const t = r.faceTracks![0];
    assert.equal(t.probs.length, 8);
    assert.ok(t.box.width > 50 && t.box.height > 50, JSON.stringify(t.box));
    assert.ok(t.state, 'state present when asked for');
    assert.ok(t.state!.ear.left > 0 && t.state!.ear.right > 0);
    for (const v of Object.values(t.state!.headPose)) assert.ok(Number.isFinite(v) && Math.abs(v) < 30, `frontal face pose ${JSON.stringify(t.state!.headPose)}`);
    assert.equal(r.secondsWithoutFace, 0);
  }
  // The closed-eye frames lower the measured openness (FaceMesh under-tracks closed lids: see docs/driver-state.md).
  const openness = withFaces.map((r) => (r.faceTracks![0].state!.eyeOpenness.left + r.faceTracks![0].state!.eyeOpenness.right) / 2);
  assert.ok(Math.min(...openness) < Math.max(...openness));
});

test('without driverState: faceTracks without state; a subscriber asking with ?driverState=1 turns it on', async () => {
  const plain = await run(Array(12).fill(neutral));
  const tracks = plain.results.flatMap((r) => r.faceTracks ?? []);
  assert.ok(tracks.length > 0);
  assert.ok(tracks.every((t) => t.state === undefined));
  assert.ok(plain.results.every((r) => r.secondsWithoutFace === undefined));
  const subscribed = await run(Array(12).fill(neutral), { subscriberDriverState: true });
  const subTracks = subscribed.subResults.flatMap((r) => r.faceTracks ?? []);
  assert.ok(subTracks.length > 0 && subTracks.every((t) => t.state !== undefined), JSON.stringify(subscribed.subResults.map((r) => r.faceTracks)));
});

test('a face that leaves: secondsWithoutFace counts media time without a face, and faceTracks is empty meanwhile', async () => {
  const { width, height } = await sharp(neutral).metadata();
  const blank = await sharp({ create: { width: width!, height: height!, channels: 3, background: { r: 90, g: 90, b: 90 } } }).jpeg().toBuffer();
  const c = await EmoStreamClient.connect({ url: ts.url, driverState: true });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  for (let k = 0; k < 10; k++) {
    await sleep(40);
    c.sendVideo('jpeg', width!, height!, neutral, k * 100_000);
  }
  // Then a minute of an empty scene at 1 fps (media time).
  for (let k = 1; k <= 60; k++) {
    await sleep(40);
    c.sendVideo('jpeg', width!, height!, blank, 900_000 + k * 1_000_000);
  }
  await sleep(300);
  await c.end();
  await reader;
  assert.deepEqual(c.errors, []);
  const last = results.at(-1)!;
  assert.ok(Math.abs(last.secondsWithoutFace! - 60) <= 1.5, `secondsWithoutFace ${last.secondsWithoutFace} at the end`);
  assert.deepEqual(last.faceTracks, []);
  assert.ok(results.some((r) => r.secondsWithoutFace === 0 && r.faceTracks!.length === 1));
});
