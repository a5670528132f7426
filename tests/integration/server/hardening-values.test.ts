import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { encodeAudioFrame, encodeAuFrame } from '../../../src/protocol/v1/frames.js';
import type { EmotionResult } from '../../../src/protocol/v1/messages.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { isError, helloProbe } from '../../helpers/ws-probe.js';
import { healthySession, tone } from '../../helpers/healthy-session.js';

for (const transport of TRANSPORTS) {
  describe(`value hygiene over ${transport}`, () => {
    let ts: TestServer;
    before(async () => { ts = await startTestServer(transport); });
    after(async () => { await ts.close(); });

    test('AU 1e6 and 3.4e38, float audio ±1e30: EMO_ERR_OUT_OF_RANGE per frame; results stay finite and the session goes on', async () => {
      const healthy = healthySession(ts);
      const p = await helloProbe(ts.url);
      const huge = new Array(35).fill(0.5);
      huge[4] = 1e6;
      const maxFloat = new Array(35).fill(3.4e38);
      const presence = new Array(35).fill(0.5);
      presence[30] = 2;
      p.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, huge));
      p.ws.send(encodeAuFrame({ seq: 1, ptsUs: 0 }, maxFloat));
      p.ws.send(encodeAuFrame({ seq: 2, ptsUs: 0 }, presence));
      p.ws.send(encodeAudioFrame({ seq: 3, ptsUs: 0 }, new Float32Array(320).fill(1e30), 16000, 1));
      p.ws.send(encodeAudioFrame({ seq: 4, ptsUs: 0 }, new Float32Array(320).fill(-1e30), 16000, 1));
      await p.waitFor((m) => isError('EMO_ERR_OUT_OF_RANGE')(m) && (m as { seq?: number }).seq === 4);
      const refused = p.messages.filter(isError('EMO_ERR_OUT_OF_RANGE')) as { seq?: number; message: string }[];
      assert.deepEqual(refused.map((m) => m.seq), [0, 1, 2, 3, 4]);
      assert.match(refused[0].message, /AU value 4 \(intensity\) is 1000000; must lie in \[0, 5\]/);
      assert.match(refused[2].message, /AU value 30 \(presence\) is 2/);
      assert.match(refused[3].message, /float audio must lie in \[-1, 1\]/);
      // Valid media afterwards is taken as if nothing had happened: float audio at full scale and AUs at the range's top.
      const top = Array.from({ length: 35 }, (_, i) => (i < 17 ? 5 : 1));
      for (let k = 0; k < 40; k++) {
        const pcm = Float32Array.from(tone(320, k * 320), (s) => s / 6000);
        p.ws.send(encodeAudioFrame({ seq: 10 + 2 * k, ptsUs: k * 20_000 }, pcm, 16000, 1));
        p.ws.send(encodeAuFrame({ seq: 11 + 2 * k, ptsUs: k * 20_000 }, top));
      }
      p.ws.send(JSON.stringify({ type: 'end' }));
      await p.waitFor((m) => m.type === 'end', 10_000);
      assert.equal((await p.closed).code, 1000);
      const results = p.messages.filter((m): m is EmotionResult => m.type === 'emotion');
      assert.ok(results.length >= 3, `${results.length} results`);
      for (const r of results) {
        assert.ok(r.aus && r.aus.mean.every((v, i) => Math.abs(v - top[i]) < 1e-4), 'only in-range AUs reached the window');
        assert.ok(r.fused && r.fused.probs.every(Number.isFinite), 'fused posteriors are finite');
      }
      assert.equal(p.messages.filter((m) => m.type === 'error').length, 5, 'no error beyond the five refused frames');
      assert.notEqual(p.ws.readyState, WebSocket.OPEN);
      await healthy;
    });
  });
}
