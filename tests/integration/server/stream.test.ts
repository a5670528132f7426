import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EmoStreamClient, EmoSubscriber, type EmotionResult, type ServerMessage } from '../../../clients/node/index.js';
import { AU_VECTOR_LENGTH, EMOTIONS } from '../../../src/protocol/labels.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { meanAus, readHead, referencePosterior, speechFeatures } from '../../helpers/tiny-models.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 1.2 s of a chirp at 16 kHz in 20 ms chunks plus AUs at 25 fps, sent ~8x faster than real time. */
async function streamSignal(c: EmoStreamClient, seconds = 1.2) {
  const pcm = new Int16Array(Math.round(seconds * 16000));
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(9000 * Math.sin((2 * Math.PI * (200 + i / 40) * i) / 16000) * (0.5 + 0.5 * Math.sin(i / 3000)));
  const aus: { ptsUs: number; v: number[] }[] = [];
  for (let k = 0; k * 40_000 < seconds * 1e6; k++) aus.push({ ptsUs: k * 40_000, v: Array.from({ length: AU_VECTOR_LENGTH }, (_, j) => ((k * 7 + j * 3) % 11) / 10) });
  let ai = 0;
  for (let s = 0; s < pcm.length; s += 320) {
    const ptsUs = (s / 16000) * 1e6;
    c.sendAudio(pcm.subarray(s, s + 320), { sampleRate: 16000, channels: 1, ptsUs });
    while (ai < aus.length && aus[ai].ptsUs < ptsUs + 20_000) {
      c.sendAu(aus[ai].v, aus[ai].ptsUs);
      ai++;
    }
    await sleep(2.5);
  }
  return { pcm, aus };
}

for (const transport of TRANSPORTS) {
  describe(`streaming over ${transport}`, () => {
    let ts: TestServer;
    before(async () => { ts = await startTestServer(transport); });
    after(async () => { await ts.close(); });

    test('uses the requested transport', () => {
      assert.equal(ts.server.transportName, transport);
    });

    test('welcome, one result per hop with golden posteriors, subscriber sees the same, final result, end, close 1000', async () => {
      const c = await EmoStreamClient.connect({ url: ts.url, client: 'it' });
      assert.equal(c.welcome.protocol, '1.1');
      assert.equal(c.welcome.hopMs, 250);
      assert.deepEqual(c.welcome.models.filter((m) => m.available).map((m) => m.name), ['tiny-speech', 'tiny-face']);
      const sub = await EmoSubscriber.connect(ts.url, c.sessionId);
      const subMsgs: ServerMessage[] = [];
      const subDone = (async () => { for await (const m of sub.messages()) subMsgs.push(m); })();
      await sleep(20);
      const results: EmotionResult[] = [];
      const reader = (async () => { for await (const r of c.results()) results.push(r); })();
      const { pcm, aus } = await streamSignal(c);
      const { end, close } = await c.end();
      await reader;
      await subDone;
      assert.equal(close.code, 1000);
      assert.equal(end?.reason, 'client-end');
      assert.deepEqual(results.map((r) => r.hop), [0, 1, 2, 3, 4], 'hops at 0.25..1.0 s, then the final one');
      assert.equal(results[4].final, true);
      assert.deepEqual([results[3].windowStartUs, results[3].windowEndUs], [0, 1_000_000]);
      assert.deepEqual([results[4].windowStartUs, results[4].windowEndUs], [200_000, 1_200_000]);
      const speechHead = readHead(ts.dirs.speech);
      const faceHead = readHead(ts.dirs.face);
      for (const r of results) {
        const samples = Array.from(pcm.subarray(r.windowStartUs * 0.016, r.windowEndUs * 0.016), (s) => s / 32768);
        const expSpeech = referencePosterior(speechHead, speechFeatures(samples));
        const inWin = aus.filter((a) => a.ptsUs >= r.windowStartUs && a.ptsUs < r.windowEndUs);
        const expFace = referencePosterior(faceHead, meanAus({ aus: Float32Array.from(inWin.flatMap((a) => a.v)), frames: inWin.length }));
        assert.equal(r.face!.frames, inWin.length);
        for (let k = 0; k < EMOTIONS.length; k++) {
          assert.ok(Math.abs(r.speech!.probs[k] - expSpeech[k]) < 1e-4, `hop ${r.hop} speech[${k}] ${r.speech!.probs[k]} vs ${expSpeech[k]}`);
          assert.ok(Math.abs(r.face!.probs[k] - expFace[k]) < 1e-4, `hop ${r.hop} face[${k}]`);
        }
        assert.equal(r.fused!.head, 'mean:speech+face');
        assert.equal(r.fused!.label, EMOTIONS[r.fused!.probs.indexOf(Math.max(...r.fused!.probs))]);
        // No upper bound: latency is wall-clock time and a busy machine stretches it (targets live in bench/).
        assert.ok(Number.isFinite(r.latency.totalMs) && r.latency.totalMs >= r.latency.queueMs && r.latency.queueMs >= 0);
        assert.ok(r.lastFramePtsUs !== null && r.lastFramePtsUs < r.windowEndUs);
        assert.ok((c.latencyMs(r) ?? -1) >= 0, 'the client can compute end-to-end latency');
      }
      const subResults = subMsgs.filter((m): m is EmotionResult => m.type === 'emotion');
      assert.equal(subMsgs[0].type, 'subscribed');
      assert.deepEqual(subResults.map((r) => r.fused!.probs), results.map((r) => r.fused!.probs));
      assert.equal(subMsgs[subMsgs.length - 1].type, 'end');
      assert.equal((await sub.closed()).code, 1000);
    });

    test('HTTP: /healthz, /v1/models, /metrics, 404', async () => {
      const http = ts.url.replace('ws://', 'http://');
      const health = await fetch(`${http}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
      const models = (await (await fetch(`${http}/v1/models`)).json()) as { windowMs: number; models: { name: string; available: boolean; provider?: string; error?: string }[] };
      assert.equal(models.windowMs, 1000);
      assert.equal(models.models.find((m) => m.name === 'tiny-speech')?.provider, 'cpu');
      assert.match(models.models.find((m) => m.name === 'fusion')!.error!, /no fusion/);
      const metrics = await (await fetch(`${http}/metrics`)).text();
      assert.match(metrics, /emostream_results_total \d+/);
      assert.match(metrics, /emostream_batch_size_bucket\{le="1",model="tiny-speech"\}/);
      assert.match(metrics, /emostream_stage_latency_ms_count\{stage="total"\}/);
      assert.equal((await fetch(`${http}/nope`)).status, 404);
    });

    test('44.1 kHz stereo f32 audio is accepted and resampled', async () => {
      const c = await EmoStreamClient.connect({ url: ts.url });
      const results: EmotionResult[] = [];
      const reader = (async () => { for await (const r of c.results()) results.push(r); })();
      for (let k = 0; k < 40; k++) {
        const x = new Float32Array(882 * 2);
        for (let i = 0; i < 882; i++) x[2 * i] = x[2 * i + 1] = 0.3 * Math.sin((2 * Math.PI * 440 * (k * 882 + i)) / 44100);
        c.sendAudio(x, { sampleRate: 44100, channels: 2, ptsUs: k * 20_000 });
        await sleep(1);
      }
      await c.end();
      await reader;
      assert.ok(results.length >= 3);
      assert.ok(results.every((r) => r.face === null && r.speech !== null));
      assert.equal(results[1].fused!.head, 'passthrough:speech');
    });
  });
}
