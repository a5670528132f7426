import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { SECRET, serverWithSteady, type SteadySession, token, upgrade } from '../../helpers/auth.js';

for (const transport of TRANSPORTS) {
  describe(`failed-authentication flood over ${transport}`, () => {
    let ts: TestServer;
    let steady: SteadySession;
    let close: () => Promise<void>;
    before(async () => {
      ({ ts, steady, close } = await serverWithSteady(transport, { server: { auth: { mode: 'jwt', jwt: { secret: SECRET }, maxFailuresPerMinute: 20 } } }, token('alice', ['publish'])));
    });
    after(() => close());

    test('1,000 failed attempts from one address: 401 up to the limit, then 429 with Retry-After; the good session keeps its results', async () => {
      const http = ts.url.replace('ws://', 'http://');
      const bad = `${(await token('alice', ['publish'])).slice(0, -4)}AAAA`;
      const statuses = new Map<number, number>();
      let retryAfter = '';
      const attempt = async (i: number) => {
        let status: number;
        if (i % 2 === 0) {
          const a = await upgrade(`${ts.url}/v1/stream`, { token: bad });
          status = a.status;
          if ('headers' in a && a.status === 429) retryAfter = String(a.headers['retry-after']);
        } else {
          const r = await fetch(`${http}/v1/models`, { headers: { authorization: `Bearer ${bad}` } });
          await r.arrayBuffer();
          status = r.status;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      };
      const resultsBefore = steady.results.length;
      const concurrency = 10;
      for (let i = 0; i < 1000; i += concurrency) await Promise.all(Array.from({ length: concurrency }, (_, k) => attempt(i + k)));
      const n401 = statuses.get(401) ?? 0;
      const n429 = statuses.get(429) ?? 0;
      assert.equal(n401 + n429, 1000, JSON.stringify([...statuses]));
      // Attempts in flight together may all pass the check before the limit is recorded: at most one batch more.
      assert.ok(n401 >= 20 && n401 <= 20 + concurrency, `${n401} attempts were verified`);
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After ${retryAfter}`);
      await steady.more(2);
      assert.ok(steady.results.length > resultsBefore, 'results kept coming during the flood');
      assert.equal((await fetch(`${http}/healthz`)).status, 200);
      // Backoff is per address: a good credential from the flooding address waits too.
      const good = await upgrade(`${ts.url}/v1/stream`, { token: await token('alice', ['publish']) });
      assert.equal(good.status, 429);
    });
  });
}
