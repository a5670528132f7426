import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EmoStreamClient } from '../../../clients/node/index.js';
import { replay } from '../../../clients/node/replay.js';
import { encodeAudioFrame } from '../../../src/protocol/v1/frames.js';
import type { EmotionResult, EndMessage } from '../../../src/protocol/v1/messages.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { isError, helloProbe } from '../../helpers/ws-probe.js';
import { healthySession, tone } from '../../helpers/healthy-session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BURST_MS = 1000;
const FACTOR = 4;

for (const transport of TRANSPORTS) {
  describe(`real-time limit over ${transport}`, () => {
    let ts: TestServer;
    before(async () => { ts = await startTestServer(transport, { server: { maxRealtimeFactor: FACTOR, realtimeBurstMs: BURST_MS } }); });
    after(async () => { await ts.close(); });

    test('30 s of audio sent at 10x real time or faster: frames refused, EMO_ERR_RATE_LIMITED at most once a second, the session goes on', async () => {
      const healthy = healthySession(ts);
      const p = await helloProbe(ts.url);
      const t0 = performance.now();
      // Three batches of 10 s of audio, 500 ms apart: 30 s of media in a little over 1 s of wall time.
      let seq = 0;
      for (let batch = 0; batch < 3; batch++) {
        for (let k = 0; k < 500; k++, seq++) p.ws.send(encodeAudioFrame({ seq, ptsUs: seq * 20_000 }, tone(320, seq * 320), 16000, 1));
        await sleep(500);
      }
      p.ws.send(JSON.stringify({ type: 'end' }));
      const end = (await p.waitFor((m) => m.type === 'end', 15_000)) as EndMessage;
      const wallS = (performance.now() - t0) / 1000;
      assert.equal((await p.closed).code, 1000, 'a rate-limited session ends normally');
      const limited = p.messages.filter(isError('EMO_ERR_RATE_LIMITED')) as { message: string }[];
      assert.ok(limited.length >= 1, 'the client heard it was rate-limited');
      assert.ok(limited.length <= Math.ceil(wallS) + 1, `${limited.length} rate-limit errors in ${wallS.toFixed(1)} s: at most one a second`);
      assert.match(limited[0].message, /faster than 4x real time/);
      assert.equal(p.messages.filter((m) => m.type === 'error').length, limited.length, 'no other error');
      // The audio windower counts accepted samples: the final window ends where the accepted audio ends.
      const results = p.messages.filter((m): m is EmotionResult => m.type === 'emotion');
      const final = results.at(-1)!;
      assert.equal(final.final, true);
      const acceptedUs = final.windowEndUs;
      assert.ok(acceptedUs <= (BURST_MS / 1000 + FACTOR * wallS) * 1e6 + 20_000, `accepted ${acceptedUs / 1e6} s of media in ${wallS.toFixed(1)} s`);
      assert.ok(acceptedUs < 30e6, 'frames were refused');
      assert.ok(end.results >= 3);
      const refusedFrames = Number(/emostream_rate_limited_frames_total (\d+)/.exec(await (await fetch(`${ts.url.replace('ws://', 'http://')}/metrics`)).text())?.[1]);
      assert.equal(refusedFrames, 1500 - Math.round(acceptedUs / 20_000), 'every refused frame is counted in /metrics, reported or not');
      await healthy;
    });

    test('the Node client\'s fast mode (emostream stream --fast) stays under the limit it reads from welcome', async () => {
      const c = await EmoStreamClient.connect({ url: ts.url });
      assert.deepEqual([c.welcome.limits.maxRealtimeFactor, c.welcome.limits.realtimeBurstMs], [FACTOR, BURST_MS]);
      const pcm = tone(16000 * 4);
      const chunks = Array.from({ length: 200 }, (_, k) => pcm.subarray(k * 320, (k + 1) * 320));
      const t0 = performance.now();
      const { results } = await replay(c, chunks, { realtime: false });
      const wallS = (performance.now() - t0) / 1000;
      assert.deepEqual(c.errors, [], `no frame refused: ${JSON.stringify(c.errors)}`);
      assert.ok(results.at(-1)!.final);
      assert.ok(results.at(-1)!.windowEndUs >= 3_980_000, 'all 4 s of audio were taken');
      // 4 s of audio at most 4x after a 1 s burst: the client paced itself to at least ~0.7 s.
      assert.ok(wallS >= 0.6, `took ${wallS.toFixed(2)} s`);
    });
  });
}
