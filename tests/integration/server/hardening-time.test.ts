import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { encodeAudioFrame, encodeAuFrame, encodeVideoFrame, rawVideoBytes } from '../../../src/protocol/v1/frames.js';
import type { EmotionResult, EndMessage } from '../../../src/protocol/v1/messages.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { isError, type Probe, helloProbe } from '../../helpers/ws-probe.js';
import { healthySession, tone } from '../../helpers/healthy-session.js';

const AUS = new Array(35).fill(0.5);
const MiB = 1024 * 1024;

/** A frame whose i64 ptsUs is set from a bigint (encode* take numbers, which cannot say 2^63 - 1). */
function withPts(frame: Uint8Array, ptsUs: bigint): Uint8Array {
  const f = frame.slice();
  new DataView(f.buffer).setBigInt64(8, ptsUs, true);
  return f;
}

async function session(ts: TestServer): Promise<Probe> {
  const p = await helloProbe(ts.url);
  return p;
}

/** Sends `end` and returns the final result and `end` message (the session survived what came before). */
async function finish(p: Probe): Promise<{ results: EmotionResult[]; end: EndMessage }> {
  p.ws.send(JSON.stringify({ type: 'end' }));
  const end = (await p.waitFor((m) => m.type === 'end', 10_000)) as EndMessage;
  assert.equal((await p.closed).code, 1000);
  return { results: p.messages.filter((m): m is EmotionResult => m.type === 'emotion'), end };
}

for (const transport of TRANSPORTS) {
  describe(`time hygiene over ${transport}`, () => {
    let ts: TestServer;
    // The real-time limit is lifted here (server-hardening-rate covers it): these tests walk the clock on purpose.
    before(async () => { ts = await startTestServer(transport, { server: { maxPtsJumpMs: 10_000, maxRealtimeFactor: 10_000, realtimeBurstMs: 3_600_000 } }); });
    after(async () => { await ts.close(); });

    test('AU ptsUs 0 then 9e18, 2^63 - 1 and 1e12: refused (OUT_OF_RANGE, TIMESTAMP_JUMP), RSS bounded, the session goes on', async () => {
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      const healthy = healthySession(ts);
      const p = await session(ts);
      p.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, AUS));
      p.ws.send(withPts(encodeAuFrame({ seq: 1, ptsUs: 0 }, AUS), 9_000_000_000_000_000_000n));
      p.ws.send(withPts(encodeAuFrame({ seq: 2, ptsUs: 0 }, AUS), (1n << 63n) - 1n));
      p.ws.send(withPts(encodeAuFrame({ seq: 3, ptsUs: 0 }, AUS), -(1n << 63n)));
      p.ws.send(encodeAuFrame({ seq: 4, ptsUs: 1e12 }, AUS));
      const jump = (await p.waitFor(isError('EMO_ERR_TIMESTAMP_JUMP'))) as { message: string; seq?: number };
      assert.equal(jump.seq, 4, 'the error names the refused frame');
      assert.match(jump.message, /server\.maxPtsJumpMs/);
      assert.equal(p.messages.filter(isError('EMO_ERR_OUT_OF_RANGE')).length, 3, '9e18, 2^63 - 1 and -2^63 are not exact integers');
      // The session clock did not move: frames on the real timeline still cut hops.
      for (let k = 1; k <= 60; k++) p.ws.send(encodeAuFrame({ seq: 4 + k, ptsUs: k * 20_000 }, AUS));
      const { results, end } = await finish(p);
      assert.ok(results.length >= 4, `results after the refused frames (${results.length})`);
      assert.ok(results.every((r) => r.windowEndUs <= 1_300_000 && Number.isInteger(r.windowEndUs) && Number.isInteger(r.windowStartUs)));
      assert.equal(end.reason, 'client-end');
      await healthy;
      global.gc?.();
      const grewMiB = (process.memoryUsage().rss - rss0) / MiB;
      // Before the guard a 1e12 µs jump alone left +258 MiB and 9e18 exhausted the heap; a session costs a few MiB.
      assert.ok(grewMiB < 150, `RSS grew ${grewMiB.toFixed(0)} MiB`);
    });

    test('audio after AU, and I420 video, jumping 1e12 µs ahead: EMO_ERR_TIMESTAMP_JUMP; audio at 9e18: EMO_ERR_OUT_OF_RANGE', async () => {
      const healthy = healthySession(ts);
      const p = await session(ts);
      p.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, AUS));
      p.ws.send(encodeAudioFrame({ seq: 1, ptsUs: 1e12 }, tone(320), 16000, 1));
      p.ws.send(withPts(encodeAudioFrame({ seq: 2, ptsUs: 0 }, tone(320), 16000, 1), 9_000_000_000_000_000_000n));
      const i420 = new Uint8Array(rawVideoBytes('i420', 64, 48)).fill(128);
      // The guard runs before the video analyzer (this server has none): the jump is what the client hears.
      p.ws.send(encodeVideoFrame({ seq: 3, ptsUs: 1e12 }, 'i420', 64, 48, i420));
      p.ws.send(withPts(encodeVideoFrame({ seq: 4, ptsUs: 0 }, 'i420', 64, 48, i420), 9_000_000_000_000_000_000n));
      await p.waitFor((m) => isError('EMO_ERR_TIMESTAMP_JUMP')(m) && (m as { seq?: number }).seq === 3);
      await p.waitFor((m) => isError('EMO_ERR_OUT_OF_RANGE')(m) && (m as { seq?: number }).seq === 4);
      assert.deepEqual(p.messages.filter(isError('EMO_ERR_TIMESTAMP_JUMP')).map((m) => (m as { seq?: number }).seq), [1, 3]);
      // Audio on the real timeline is still taken.
      for (let k = 0; k < 40; k++) p.ws.send(encodeAudioFrame({ seq: 10 + k, ptsUs: k * 20_000 }, tone(320, k * 320), 16000, 1));
      const { results } = await finish(p);
      assert.ok(results.some((r) => r.speech !== null), 'speech results from the audio after the refused frames');
      await healthy;
    });

    test('a clock walked forward just under the limit per frame cuts a bounded number of hops per frame', async () => {
      const p = await session(ts);
      // 50 frames, each 9.9 s ahead of the last: 485 s of session time, 1,940 hops of 250 ms, in 50 frames.
      for (let k = 0; k < 50; k++) p.ws.send(encodeAuFrame({ seq: k, ptsUs: k * 9_900_000 }, AUS));
      const { results, end } = await finish(p);
      assert.deepEqual(p.messages.filter((m) => m.type === 'error'), [], 'every step is within maxPtsJumpMs');
      // Each frame cut at most maxPendingHops + 1 hops; the rest count as dropped windows, not as work.
      assert.ok(results.length <= 50 * 3 + 1, `${results.length} results`);
      assert.ok(end.droppedWindows > 1000, `skipped hops are reported as dropped windows (${end.droppedWindows})`);
      assert.equal(p.ws.readyState, WebSocket.CLOSED);
    });
  });
}
