import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EmoStreamClient, EmoSubscriber, type ServerMessage } from '../../../clients/node/index.js';
import { encodeAudioFrame, encodeAuFrame } from '../../../src/protocol/v1/frames.js';
import type { Welcome } from '../../../src/protocol/v1/messages.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { probe, hello, helloProbe, isError, type Probe } from '../../helpers/ws-probe.js';
import { healthySession, tone } from '../../helpers/healthy-session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const IDLE_MS = 1000;

async function helloOnly(ts: TestServer): Promise<{ p: Probe; sessionId: string }> {
  const p = await helloProbe(ts.url);
  const welcome = p.messages.find((m) => m.type === 'welcome') as Welcome;
  return { p, sessionId: welcome.sessionId };
}

for (const transport of TRANSPORTS) {
  describe(`idle sessions over ${transport}`, () => {
    let ts: TestServer;
    before(async () => { ts = await startTestServer(transport, { server: { idleSessionTimeoutMs: IDLE_MS, maxSessions: 8 } }); });
    after(async () => { await ts.close(); });

    test('hello and nothing else (pinging all along): EMO_ERR_IDLE, close 4034; its subscriber gets the error, end and 4034; a streaming session stays', async () => {
      const { p, sessionId } = await helloOnly(ts);
      const sub = await EmoSubscriber.connect(ts.url, sessionId);
      const subMessages: ServerMessage[] = [];
      sub.ws.on('message', (d) => subMessages.push(JSON.parse(d.toString()) as ServerMessage));
      const subClosed = sub.closed();
      // A client streaming at real-time pace for 2.5 timeouts beside it.
      const live = await EmoStreamClient.connect({ url: ts.url });
      const liveResults = (async () => { let n = 0; for await (const _r of live.results()) n++; return n; })();
      const pinger = setInterval(() => p.ws.send(JSON.stringify({ type: 'ping', id: 1 })), 100);
      const t0 = performance.now();
      let k = 0;
      while (performance.now() - t0 < 2.5 * IDLE_MS) {
        live.sendAudio(tone(800, k * 800), { sampleRate: 16000, channels: 1, ptsUs: k * 50_000 });
        k++;
        await sleep(50);
      }
      const idle = (await p.waitFor(isError('EMO_ERR_IDLE'), 10_000)) as { message: string };
      clearInterval(pinger);
      assert.match(idle.message, /server\.idleSessionTimeoutMs = 1000/);
      assert.ok(p.messages.some((m) => m.type === 'pong'), 'pings were answered, and did not count as media');
      assert.equal((await p.closed).code, 4034);
      assert.equal((await subClosed).code, 4034);
      assert.deepEqual(subMessages.map((m) => (m.type === 'error' ? m.code : m.type)), ['EMO_ERR_IDLE', 'end']);
      assert.equal(live.isOpen, true, 'the streaming session was not reaped');
      const { close } = await live.end();
      assert.equal(close.code, 1000);
      assert.ok((await liveResults) >= 5);
      assert.deepEqual(live.errors, []);
    });

    test('maxSessions hello-only sessions hold every slot only until the idle timeout; then real clients get in', async () => {
      const idlers = await Promise.all(Array.from({ length: 8 }, () => helloOnly(ts)));
      const refused = await probe(ts.url);
      refused.ws.send(hello());
      await refused.waitFor(isError('EMO_ERR_TOO_MANY_SESSIONS'));
      // Frames the server refuses do not count as media either: this one keeps sending a bad AU vector.
      const bad = idlers[0].p;
      const badSender = setInterval(() => bad.ws.send(encodeAuFrame({ seq: 0, ptsUs: 0 }, new Array(35).fill(9))), 100);
      const closes = await Promise.all(idlers.map(({ p }) => p.closed));
      clearInterval(badSender);
      assert.deepEqual(closes.map((c) => c.code), new Array(8).fill(4034));
      assert.ok(bad.messages.some(isError('EMO_ERR_OUT_OF_RANGE')));
      await healthySession(ts);
      // A frame after hello resets the clock: accepted media is what counts.
      const { p } = await helloOnly(ts);
      for (let k = 0; k < 5; k++) {
        await sleep(IDLE_MS * 0.4);
        p.ws.send(encodeAudioFrame({ seq: k, ptsUs: k * 20_000 }, tone(320), 16000, 1));
      }
      assert.equal(p.messages.filter(isError('EMO_ERR_IDLE')).length, 0);
      p.ws.close();
    });
  });
}
