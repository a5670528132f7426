import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPipeline } from '../../../src/streaming/session-pipeline.js';
import type { PipelineOptions } from '../../../src/streaming/pipeline-options.js';
import { videoErrorCode } from '../../../src/streaming/video-path.js';
import { createMonoResampler } from '../../../src/streaming/resampler.js';
import type { EmotionResult } from '../../../src/protocol/v1/messages.js';
import { ProtocolError } from '../../../src/protocol/v1/errors.js';
import { auFrames, fakeModels, sineChunks } from '../../helpers/synthetic.js';
import { until } from '../../helpers/until.js';

function pipeline(models: PipelineOptions['models'], overrides: Partial<PipelineOptions> = {}) {
  const results: EmotionResult[] = [];
  const errors: ProtocolError[] = [];
  const p = new SessionPipeline({
    sessionId: 's1', windowMs: 1000, hopMs: 250, maxPendingHops: 16, videoAnalysisFps: 10, maxBufferedChunks: 64,
    models, createResampler: createMonoResampler,
    onResult: (r) => results.push(r), onError: (e) => errors.push(e), ...overrides,
  });
  return { p, results, errors };
}

test('audio + AUs: one result per hop with both posteriors, window bounds on the session clock, then a final', async () => {
  const { models, speechWindows, faceWindows } = fakeModels();
  const { p, results } = pipeline(models);
  const audio = sineChunks({ seconds: 2, sampleRate: 16000, chunkMs: 50, startUs: 5_000_000 });
  const aus = auFrames({ seconds: 2, fps: 20, startUs: 5_000_000 });
  let ai = 0;
  for (const c of audio) {
    p.pushAudio(c);
    while (ai < aus.length && aus[ai].ptsUs < c.ptsUs + 50_000) { p.pushAu(aus[ai].ptsUs, aus[ai].aus); ai++; }
    await new Promise((r) => setImmediate(r));
  }
  await p.end();
  assert.equal(results.length, 9, `8 hops in 2 s + final, got ${results.length}`);
  assert.deepEqual(results.map((r) => r.hop), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const r3 = results[3];
  assert.deepEqual([r3.windowStartUs, r3.windowEndUs], [5_000_000, 6_000_000]);
  assert.equal(r3.face!.frames, 20, 'the window waits for the AU stream to reach its end');
  const r7 = results[7];
  assert.deepEqual([r7.windowStartUs, r7.windowEndUs], [6_000_000, 7_000_000]);
  assert.equal(r7.face!.frames, 20);
  assert.equal(r7.speech!.probs[2], 1);
  assert.equal(r7.fused!.head, 'mean:speech+face');
  assert.ok(r7.lastFramePtsUs! >= 6_950_000 && r7.lastFramePtsUs! < 7_000_000);
  // The window mean of the AU vectors that entered the window (frames 20..39 of the 20 fps stream).
  const inWin = aus.filter((a) => a.ptsUs >= 6_000_000 && a.ptsUs < 7_000_000);
  assert.equal(r7.aus!.mean.length, 35);
  r7.aus!.mean.forEach((m, j) => assert.ok(Math.abs(m - inWin.reduce((s, a) => s + a.aus[j], 0) / inWin.length) < 1e-5, `AU ${j}`));
  // Media ended exactly on hop 7's end: the final result repeats hop 7 without running the models again.
  const fin = results[8];
  assert.equal(fin.final, true);
  assert.equal(fin.repeatOfHop, 7);
  assert.deepEqual([fin.windowStartUs, fin.windowEndUs], [r7.windowStartUs, r7.windowEndUs]);
  assert.deepEqual(fin.fused, r7.fused);
  assert.deepEqual(fin.aus, r7.aus);
  assert.equal(fin.lastFramePtsUs, null, 'a repeat carries no new frame, so it does not count as end-to-end latency');
  assert.equal(speechWindows[7].samples, 16000);
  assert.ok(Math.abs(speechWindows[7].rms - 0.5 / Math.SQRT2) < 0.01);
  assert.equal(faceWindows.length, 8, 'no model call for the repeated final window');
  assert.equal(speechWindows.length, 8);
  assert.ok(results.slice(0, 8).every((r) => r.repeatOfHop === undefined));
  assert.ok(results.every((r) => r.latency.totalMs >= 0 && r.droppedWindows === 0));
});

test('end after media past the last hop: the final result covers the window ending at the newest media, models run', async () => {
  const { models, speechWindows } = fakeModels({ face: false });
  const { p, results } = pipeline(models);
  for (const c of sineChunks({ seconds: 1.1, sampleRate: 16000, chunkMs: 50 })) p.pushAudio(c);
  await p.end();
  assert.deepEqual(results.map((r) => r.hop), [0, 1, 2, 3, 4]);
  const fin = results[4];
  assert.equal(fin.final, true);
  assert.equal(fin.repeatOfHop, undefined);
  assert.deepEqual([fin.windowStartUs, fin.windowEndUs], [100_000, 1_100_000]);
  assert.equal(speechWindows.length, 5);
  assert.equal(fin.aus, null, 'no AU frames, no AU mean');
});

test('end with no media at all still sends one final result', async () => {
  const { models } = fakeModels();
  const { p, results } = pipeline(models);
  await p.end();
  assert.equal(results.length, 1);
  assert.equal(results[0].final, true);
  assert.equal(results[0].repeatOfHop, undefined);
});

test('44.1 kHz stereo audio is resampled before the speech stream sees it', async () => {
  const { models, speechWindows } = fakeModels({ face: false });
  const { p, results } = pipeline(models);
  for (const c of sineChunks({ seconds: 1.1, sampleRate: 44100, channels: 2, chunkMs: 20 })) p.pushAudio(c);
  await p.end();
  assert.ok(results.length >= 5);
  assert.equal(results[0].face, null);
  assert.equal(results[3].fused!.head, 'passthrough:speech');
  const full = speechWindows[3];
  assert.ok(Math.abs(full.samples - 16000) < 100, `window of ${full.samples} samples`);
});

test('slow inference drops the oldest windows, counts them and still ends with a final result', async () => {
  const { models } = fakeModels({ speechDelayMs: 60, face: false });
  const drops: number[] = [];
  const { p, results } = pipeline(models, { hopMs: 50, windowMs: 200, maxPendingHops: 1, onDrop: (n) => drops.push(n) });
  for (const c of sineChunks({ seconds: 2, sampleRate: 16000, chunkMs: 10 })) p.pushAudio(c);
  await p.end();
  const last = results[results.length - 1];
  assert.equal(last.final, true);
  assert.ok(last.droppedWindows > 0, 'drops are reported in the result stream');
  assert.equal(drops.reduce((a, b) => a + b, 0), last.droppedWindows);
  const hops = results.map((r) => r.hop);
  assert.ok(hops.every((h, i) => i === 0 || h > hops[i - 1]), 'results stay in hop order');
  assert.ok(results.length + last.droppedWindows >= 40);
});

test('no models: results still flow with null posteriors; video without analyzer is a clear error', async () => {
  const { p, results } = pipeline({ speech: null, face: null, fusion: null, video: null });
  for (const f of auFrames({ seconds: 0.6, fps: 30 })) p.pushAu(f.ptsUs, f.aus);
  assert.throws(() => p.pushVideo({ format: 'jpeg', width: 2, height: 2, payload: new Uint8Array(4), ptsUs: 1e6 }),
    (e: unknown) => e instanceof ProtocolError && e.code === 'EMO_ERR_VIDEO_UNAVAILABLE');
  await p.end();
  assert.equal(results.length, 3);
  assert.ok(results.every((r) => r.speech === null && r.face === null && r.fused === null));
  assert.throws(() => p.pushAu(2e6, new Float32Array(35)), (e: unknown) => e instanceof ProtocolError && e.code === 'EMO_ERR_ENDED');
});

test('video frames are analysed at the capped rate and their largest face feeds the AU windower', async () => {
  const analysed: number[] = [];
  const { models } = fakeModels({ speech: false });
  models.video = {
    status: () => ({ name: 'fake-video', modality: 'face', available: true, labels: [] }),
    dispose: async () => undefined,
    createStream: () => ({
      analyze: async (frame) => {
        analysed.push(frame.ptsUs);
        await new Promise((r) => setTimeout(r, 5));
        const face = (trackId: number, side: number) => ({ trackId, box: { x: 0, y: 0, width: side, height: side }, score: 1, aus: new Float32Array(35).fill(side / 100), expression: null });
        return { faces: [face(1, 10), face(2, 50)], faceMs: 5 };
      },
      reset: () => undefined,
      dispose: () => undefined,
    }),
  };
  let skipped = 0;
  const { p, results } = pipeline(models, { onVideoSkipped: (n) => { skipped += n; } });
  for (let k = 0; k < 45; k++) {
    p.pushVideo({ format: 'i420', width: 2, height: 2, payload: new Uint8Array(6), ptsUs: Math.round((k * 1e6) / 30) });
    // 30 fps capped at 10: every third frame is taken. Waiting for its analysis to start (instead of pacing by the
    // wall clock) means a busy machine can never have a waiting frame replaced, so the count is exact.
    if (k % 3 === 0) await until(() => analysed.length === k / 3 + 1, `frame ${k} in analysis`);
  }
  await p.end();
  assert.equal(analysed.length, 15, `analysed ${analysed.length} of 45 frames at 10 fps`);
  assert.equal(skipped, 45 - analysed.length);
  const withFace = results.filter((r) => r.face);
  assert.ok(withFace.length >= 4);
  assert.deepEqual(withFace[withFace.length - 1].faces!.trackIds, [1, 2]);
  assert.ok(withFace.every((r) => r.latency.faceMs !== null || r.repeatOfHop !== undefined));
  assert.ok(withFace.every((r) => r.aus!.mean.length === 35 && Math.abs(r.aus!.mean[0] - 0.5) < 1e-6), 'the largest face (side 50) gives the window AU mean');
});

test('analyzer failures are forwarded with their catalogue code, throttled; busy frames count as skipped and are reported', async () => {
  const { models } = fakeModels({ speech: false });
  let n = 0;
  models.video = {
    status: () => ({ name: 'failing-video', modality: 'face', available: true, labels: [] }),
    dispose: async () => undefined,
    createStream: () => ({
      analyze: async () => {
        n++;
        throw Object.assign(new Error(n % 2 ? 'corrupt JPEG' : 'queue full'), { code: n % 2 ? 'EMO_ERR_VIDEO_DECODE' : 'EMO_ERR_VIDEO_BUSY' });
      },
      reset: () => undefined,
      dispose: () => undefined,
    }),
  };
  let skipped = 0;
  const { p, errors } = pipeline(models, { videoAnalysisFps: 60, onVideoSkipped: (k) => { skipped += k; } });
  for (let k = 0; k < 10; k++) {
    p.pushVideo({ format: 'jpeg', width: 2, height: 2, payload: new Uint8Array([0xff, 0xd8, 0, 0]), ptsUs: k * 20_000 });
    await new Promise((r) => setTimeout(r, 5));
  }
  await p.end();
  assert.ok(n >= 6, `analyzer called ${n} times`);
  assert.deepEqual(errors.map((e) => e.code), ['EMO_ERR_VIDEO_DECODE', 'EMO_ERR_VIDEO_BUSY'], 'one message per code per second at most');
  assert.match(errors[0].message, /corrupt JPEG/);
  assert.match(errors[1].message, /queue full/);
  assert.ok(skipped >= Math.floor(n / 2));
});

test('analyzer failure codes: catalogue codes pass, fatal or unknown codes become EMO_ERR_VIDEO_INTERNAL', () => {
  assert.equal(videoErrorCode(Object.assign(new Error('x'), { code: 'EMO_ERR_VIDEO_DECODE' })), 'EMO_ERR_VIDEO_DECODE');
  assert.equal(videoErrorCode(Object.assign(new Error('x'), { code: 'EMO_ERR_VIDEO_TOO_LARGE' })), 'EMO_ERR_VIDEO_TOO_LARGE');
  assert.equal(videoErrorCode(Object.assign(new Error('x'), { code: 'EMO_ERR_INTERNAL' })), 'EMO_ERR_VIDEO_INTERNAL', 'a fatal code must not close the session');
  assert.equal(videoErrorCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'EMO_ERR_VIDEO_INTERNAL');
  assert.equal(videoErrorCode(new Error('plain')), 'EMO_ERR_VIDEO_INTERNAL');
  assert.equal(videoErrorCode(null), 'EMO_ERR_VIDEO_INTERNAL');
});

test('end waits for video frames still in analysis, so their AUs reach the final result', async () => {
  const { models } = fakeModels({ speech: false });
  const analysed: number[] = [];
  models.video = {
    status: () => ({ name: 'slow-video', modality: 'face', available: true, labels: [] }),
    dispose: async () => undefined,
    createStream: () => ({
      analyze: async (frame) => {
        await new Promise((r) => setTimeout(r, 40));
        analysed.push(frame.ptsUs);
        return { faces: [{ trackId: 1, box: { x: 0, y: 0, width: 10, height: 10 }, score: 1, aus: new Float32Array(35).fill(frame.ptsUs / 1e6), expression: null }], faceMs: 40 };
      },
      reset: () => undefined,
      dispose: () => undefined,
    }),
  };
  const { p, results } = pipeline(models, { videoAnalysisFps: 60 });
  // Two frames: the first goes into analysis, the second waits; `end` comes before either is analysed.
  p.pushVideo({ format: 'i420', width: 2, height: 2, payload: new Uint8Array(6), ptsUs: 0 });
  p.pushVideo({ format: 'i420', width: 2, height: 2, payload: new Uint8Array(6), ptsUs: 100_000 });
  await p.end();
  assert.deepEqual(analysed, [0, 100_000]);
  const fin = results[results.length - 1];
  assert.equal(fin.final, true);
  assert.equal(fin.face!.frames, 2, 'both frames analysed after `end` are in the final window');
  assert.ok(Math.abs(fin.aus!.mean[0] - 0.05) < 1e-6);
});
