import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT } from 'jose';
import { EmoSubscriber, type ServerMessage } from '../../../clients/node/index.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { capturingLogger, refused, SECRET, SteadySession, token, upgrade } from '../../helpers/auth.js';
import { tinyLoaders } from '../../helpers/tiny-models.js';

const now = () => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>, secret = SECRET) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
const claims = (over: Record<string, unknown> = {}) => ({ sub: 'mallory', aud: 'emostream', scope: 'publish subscribe', exp: now() + 300, ...over });

for (const transport of TRANSPORTS) {
  describe(`JWT access control over ${transport}`, () => {
    let ts: TestServer;
    let steady: SteadySession;
    let http: string;
    const log = capturingLogger();
    const tokens: string[] = [];
    const remember = (t: string) => { tokens.push(t); return t; };
    before(async () => {
      ts = await startTestServer(transport, { server: { auth: { mode: 'jwt', jwt: { secret: SECRET }, maxFailuresPerMinute: 1000 } } }, tinyLoaders(), log.logger);
      http = ts.url.replace('ws://', 'http://');
      steady = await SteadySession.start(ts.url, remember(await token('alice', ['publish'])));
      await steady.more(1);
    });
    after(async () => {
      await steady.stop();
      await ts.close();
      // No credential ever reaches the log, and auth failures are audit lines.
      const text = log.lines.join('\n');
      for (const t of tokens) {
        // The whole token, and its payload (which carries the claims), never appear.
        for (const part of [t, t.split('.')[1]]) assert.ok(!text.includes(part), `a credential appears in the log: ${log.lines.find((l) => l.includes(part))}`);
      }
      const failures = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'auth-failed');
      assert.ok(failures.length >= 8 && failures.every((l) => l.audit === true && typeof l.remote === 'string'));
      assert.ok(log.lines.some((l) => l.includes('"session opened"') && l.includes('"owner":"jwt:alice"') && l.includes('"audit":true')));
    });

    test('no token, another secret, alg none, truncated, expired, nbf in the future, wrong aud: refused at the upgrade', async () => {
      const stream = `${ts.url}/v1/stream`;
      assert.match(await refused(stream, {}, 401, 'EMO_ERR_UNAUTHORIZED'), /credentials required/);
      assert.match(await refused(stream, { token: remember(await sign(claims(), 'another-secret-0123456789abcdefghijklmnop')) }, 401, 'EMO_ERR_UNAUTHORIZED'), /signature/);
      assert.match(await refused(stream, { token: remember(new UnsecuredJWT(claims()).encode()) }, 401, 'EMO_ERR_UNAUTHORIZED'), /algorithm/);
      const good = remember(await sign(claims()));
      await refused(stream, { token: good.slice(0, -12) }, 401, 'EMO_ERR_UNAUTHORIZED');
      await refused(stream, { token: good.split('.').slice(0, 2).join('.') }, 401, 'EMO_ERR_UNAUTHORIZED');
      assert.match(await refused(stream, { token: remember(await sign(claims({ exp: now() - 60 }))) }, 401, 'EMO_ERR_TOKEN_EXPIRED'), /exp/);
      assert.match(await refused(stream, { token: remember(await sign(claims({ nbf: now() + 600 }))) }, 401, 'EMO_ERR_TOKEN_EXPIRED'), /nbf/);
      assert.match(await refused(stream, { token: remember(await sign(claims({ aud: 'another-service' }))) }, 401, 'EMO_ERR_UNAUTHORIZED'), /aud/);
      const a = await upgrade(stream, {});
      assert.ok(a.status === 401 && 'headers' in a && String(a.headers['www-authenticate']).startsWith('Bearer'));
      await steady.more();
    });

    test('a token in both the header and the query is refused with 400; the query alone works (browsers)', async () => {
      const t = remember(await token('alice', ['publish']));
      assert.match(await refused(`${ts.url}/v1/stream?access_token=${t}`, { token: t }, 400, 'EMO_ERR_UNAUTHORIZED'), /both/);
      const ok = await upgrade(`${ts.url}/v1/stream?access_token=${t}`);
      assert.equal(ok.status, 101);
      if ('ws' in ok) ok.ws.close();
      await steady.more();
    });

    test('a subscribe token cannot publish; a publish token cannot subscribe', async () => {
      assert.match(await refused(`${ts.url}/v1/stream`, { token: remember(await token('alice', ['subscribe'])) }, 403, 'EMO_ERR_FORBIDDEN'), /publish scope/);
      await refused(`${ts.url}/v1/subscribe?session=${steady.sessionId}`, { token: remember(await token('alice', ['publish'])) }, 403, 'EMO_ERR_FORBIDDEN');
      await steady.more();
    });

    test("another identity's session, and a token for session A used on session B: 403; the owner and admin may follow", async () => {
      const sub = `${ts.url}/v1/subscribe?session=${steady.sessionId}`;
      assert.match(await refused(sub, { token: remember(await token('bob', ['subscribe'])) }, 403, 'EMO_ERR_FORBIDDEN'), /another identity/);
      assert.match(await refused(sub, { token: remember(await token('alice', ['subscribe'], { session: 'session-a' })) }, 403, 'EMO_ERR_FORBIDDEN'), /pinned to another session/);
      await refused(`${ts.url}/v1/subscribe?session=no-such-session`, { token: remember(await token('bob', ['subscribe'])) }, 403, 'EMO_ERR_FORBIDDEN');
      for (const t of [await token('alice', ['subscribe']), await token('ops', ['admin'])]) {
        const follower = await EmoSubscriber.connect(ts.url, steady.sessionId, 10_000, { token: remember(t) });
        const got: ServerMessage[] = [];
        for await (const m of follower.messages()) {
          got.push(m);
          if (got.filter((x) => x.type === 'emotion').length >= 2) break;
        }
        follower.close();
        assert.equal(got[0].type, 'subscribed');
      }
      await steady.more();
    });

    test('a publish token pinned to a session names it; a clinician token pinned to it follows; a second publisher is refused', async () => {
      const room = `room-${transport}-42`;
      const clinician = await EmoSubscriber.connect(ts.url, room, 10_000, { token: remember(await token('clinician', ['subscribe'], { session: room })) }).catch((e: Error) => e);
      // Before the patient connects there is nothing to follow yet.
      assert.ok(clinician instanceof EmoSubscriber);
      const first: ServerMessage[] = [];
      for await (const m of clinician.messages()) first.push(m);
      assert.equal(first[0].type, 'error');
      const patient = await SteadySession.start(ts.url, remember(await token('patient', ['publish'], { session: room })));
      assert.equal(patient.sessionId, room);
      await refused(`${ts.url}/v1/stream`, { token: remember(await token('patient', ['publish'], { session: room })) }, 403, 'EMO_ERR_FORBIDDEN');
      const follower = await EmoSubscriber.connect(ts.url, room, 10_000, { token: remember(await token('clinician', ['subscribe'], { session: room })) });
      let results = 0;
      for await (const m of follower.messages()) if (m.type === 'emotion' && ++results >= 2) break;
      follower.close();
      await patient.stop();
      await steady.more();
    });

    test('/metrics needs admin; /v1/models needs a credential and shows paths to admins only; Origin outside the list refused', async () => {
      assert.equal((await fetch(`${http}/metrics`)).status, 401);
      assert.equal((await fetch(`${http}/metrics`, { headers: { authorization: `Bearer ${remember(await token('alice', ['publish']))}` } })).status, 403);
      const admin = remember(await token('ops', ['admin']));
      const m = await fetch(`${http}/metrics`, { headers: { authorization: `Bearer ${admin}` } });
      assert.equal(m.status, 200);
      assert.match(await m.text(), /emostream_sessions_active/);
      assert.equal((await fetch(`${http}/v1/models`)).status, 401);
      const plain = await (await fetch(`${http}/v1/models`, { headers: { authorization: `Bearer ${remember(await token('alice', ['subscribe']))}` } })).text();
      assert.ok(!plain.includes(ts.dirs.speech) && !plain.includes('/tmp/'), 'no filesystem path for a non-admin');
      const full = await (await fetch(`${http}/v1/models`, { headers: { authorization: `Bearer ${admin}` } })).text();
      assert.ok(full.includes(ts.dirs.speech), 'admins see where the models come from');
      assert.equal((await fetch(`${http}/healthz`)).status, 200, 'health probes need no credential');
      // whoami: what the web page asks to explain a refused WebSocket.
      const who = await fetch(`${http}/v1/auth/whoami`, { headers: { authorization: `Bearer ${remember(await token('alice', ['subscribe'], { session: 'r1' }))}` } });
      assert.deepEqual(Object.fromEntries(Object.entries(await who.json() as Record<string, unknown>).filter(([k]) => k !== 'expiresAt')),
        { mode: 'jwt', kind: 'jwt', subject: 'alice', scopes: ['subscribe'], session: 'r1' });
      const expired = await fetch(`${http}/v1/auth/whoami?access_token=${remember(await sign(claims({ exp: now() - 60 })))}`);
      assert.equal(expired.status, 401);
      assert.equal((await expired.json() as { code: string }).code, 'EMO_ERR_TOKEN_EXPIRED');
      const t = remember(await token('alice', ['publish']));
      await refused(`${ts.url}/v1/stream`, { token: t, headers: { origin: 'https://evil.example' } }, 403, 'EMO_ERR_FORBIDDEN');
      const same = await upgrade(`${ts.url}/v1/stream`, { token: t, headers: { origin: http } });
      assert.equal(same.status, 101, "the server's own page may connect");
      if ('ws' in same) same.ws.close();
      await steady.more();
    });
  });
}
