import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EmoStreamClient, type EmotionResult } from '../../../clients/node/index.js';
import { AU_VECTOR_LENGTH, EMOTIONS } from '../../../src/protocol/labels.js';
import { rawVideoBytes } from '../../../src/protocol/v1/frames.js';
import type { VideoAnalyzer, VideoFrameInput } from '../../../src/contracts/models.js';
import type { ModelLoaders } from '../../../src/models/registry.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { meanAus, readHead, referencePosterior, tinyLoaders } from '../../helpers/tiny-models.js';
import { until } from '../../helpers/until.js';
import { facePosterior } from '../../../src/face/face-posterior.js';
import { facsPosterior } from '../../../src/face/facs-rules.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Test-double analyzer: one face whose 35 AUs are the frame's mean luma / 50, a fixed expression posterior. */
function fakeAnalyzer(analysed: VideoFrameInput[]): VideoAnalyzer {
  return {
    status: () => ({ name: 'fake-video', modality: 'face', available: true, provider: 'test', labels: EMOTIONS }),
    dispose: async () => undefined,
    createStream: () => ({
      analyze: async (frame) => {
        analysed.push(frame);
        await sleep(3);
        const luma = frame.payload.subarray(0, frame.width * frame.height);
        const mean = luma.reduce((s, v) => s + v, 0) / luma.length;
        const expression = new Float32Array(8).fill(0.05);
        expression[2] = 0.65;
        return { faces: [{ trackId: 7, box: { x: 0, y: 0, width: 10, height: 10 }, score: 0.9, aus: new Float32Array(AU_VECTOR_LENGTH).fill(mean / 50), expression }], faceMs: 3 };
      },
      reset: () => undefined,
      dispose: () => undefined,
    }),
  };
}

for (const transport of TRANSPORTS) {
  describe(`model availability over ${transport}`, () => {
    test('zero models: sessions still run, results carry nulls, /v1/models says why', async () => {
      const none: ModelLoaders = {
        speech: async () => { throw new Error('speech weights not shipped'); },
        face: async () => { throw new Error('face weights not shipped'); },
        fusion: async () => { throw new Error('fusion not trained'); },
        video: async () => { throw new Error('no video'); },
      };
      const ts = await startTestServer(transport, {}, none);
      try {
        const c = await EmoStreamClient.connect({ url: ts.url });
        assert.ok(c.welcome.models.every((m) => !m.available && m.error));
        const results: EmotionResult[] = [];
        const reader = (async () => { for await (const r of c.results()) results.push(r); })();
        for (let k = 0; k < 30; k++) {
          c.sendAudio(new Int16Array(320).fill(100), { sampleRate: 16000, channels: 1, ptsUs: k * 20_000 });
          c.sendAu(new Array(35).fill(0.1), k * 20_000);
          await sleep(1);
        }
        await c.end();
        await reader;
        assert.ok(results.length >= 2);
        assert.ok(results.every((r) => r.speech === null && r.face === null && r.fused === null));
        const models = (await (await fetch(ts.url.replace('ws', 'http') + '/v1/models')).json()) as { models: { error: string }[] };
        assert.match(models.models[0].error, /speech weights not shipped/);
      } finally {
        await ts.close();
      }
    });
  });

  describe(`video frames over ${transport}`, () => {
    let ts: TestServer;
    const analysed: VideoFrameInput[] = [];
    before(async () => {
      ts = await startTestServer(transport, { streaming: { videoAnalysisFps: 10 } }, { ...tinyLoaders(), video: async () => fakeAnalyzer(analysed) });
    });
    after(async () => { await ts.close(); });

    test('I420 frames are rate-capped, analysed, and their largest face feeds the face model; results carry faces and expression', async () => {
      const c = await EmoStreamClient.connect({ url: ts.url });
      assert.ok(c.welcome.models.some((m) => m.name === 'fake-video' && m.available));
      const results: EmotionResult[] = [];
      const reader = (async () => { for await (const r of c.results()) results.push(r); })();
      const w = 32;
      const h = 24;
      for (let k = 0; k < 30; k++) {
        const frame = new Uint8Array(rawVideoBytes('i420', w, h)).fill(50 + k);
        c.sendVideo('i420', w, h, frame, Math.round((k * 1e6) / 30));
        // Every third frame passes the 10 fps cap; waiting for its analysis to start (not pacing by the wall clock)
        // means a busy machine can never have a waiting frame replaced, so the count is exact.
        if (k % 3 === 0) await until(() => analysed.length === k / 3 + 1, `frame ${k} in analysis`);
      }
      await c.end();
      await reader;
      assert.equal(analysed.length, 10, `${analysed.length} of 30 frames analysed at the 10 fps cap`);
      // A final result that only repeats the last window (no new media after it) carries no new latency figures.
      const withFace = results.filter((r) => r.face && r.repeatOfHop === undefined);
      assert.ok(withFace.length >= 2);
      const r = withFace[withFace.length - 1];
      assert.deepEqual(r.faces, { count: 1, trackIds: [7] });
      assert.ok(Math.abs(r.expression!.probs[2] - 0.65) < 1e-5);
      assert.ok(r.latency.faceMs !== null && (r.latency as { analysisMs?: number }).analysisMs! >= 0);
      // Golden: the face posterior is the tiny face model on the mean of the analysed frames' AUs in the window.
      const inWin = analysed.filter((f) => f.ptsUs >= r.windowStartUs && f.ptsUs < r.windowEndUs);
      const aus = Float32Array.from(inWin.flatMap((f) => new Array(AU_VECTOR_LENGTH).fill(f.payload[0] / 50)));
      const expected = referencePosterior(readHead(ts.dirs.face), meanAus({ aus, frames: inWin.length }));
      assert.equal(r.face!.frames, inWin.length);
      // The window's mean AUs, as sent to the client: each column is the mean of the analysed frames' values.
      const meanAu = inWin.reduce((sum, f) => sum + f.payload[0] / 50, 0) / inWin.length;
      assert.equal(r.aus!.mean.length, AU_VECTOR_LENGTH);
      r.aus!.mean.forEach((v) => assert.ok(Math.abs(v - meanAu) < 1e-4, `AU mean ${v} vs ${meanAu}`));
      // The AU model's own posterior; the face posterior of a video window is the pool (models.video.facePosterior).
      r.face!.auModel!.forEach((p, k) => assert.ok(Math.abs(p - expected[k]) < 1e-4));
      const pool = facePosterior('pool', { expression: Float32Array.from(r.expression!.probs), auModel: expected, facs: facsPosterior(r.aus!.mean) })!;
      r.face!.probs.forEach((p, k) => assert.ok(Math.abs(p - pool[k]) < 1e-3, `pool ${k}: ${p} vs ${pool[k]}`));
      assert.equal(r.face!.source, 'pool');
      assert.equal(r.fused!.head, 'video-face');
      assert.deepEqual(r.fused!.probs, r.face!.probs);
      const metrics = await (await fetch(ts.url.replace('ws', 'http') + '/metrics')).text();
      assert.match(metrics, /emostream_video_frames_skipped_total [1-9]/);
    });
  });
}
