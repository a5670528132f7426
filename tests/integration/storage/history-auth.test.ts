import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { startTestServer } from '../../helpers/server.js';
import { hello, probe } from '../../helpers/ws-probe.js';

const SECRET = 'history-test-secret-0123456789abcdef-0123456789';
const token = (sub: string, scope: string) => new SignJWT({ sub, aud: 'emostream', scope, exp: Math.floor(Date.now() / 1000) + 300 })
  .setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

/**
 * With access control on (server.auth jwt), history belongs to whoever streamed it: another identity gets 403 on it
 * and does not see it in its list, a missing scope is 403, no credentials 401, an admin sees and erases everything,
 * and a late-join replay needs history:read on that session.
 */
test('history API and replay behind history:read / history:delete and the owner identity', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emo-history-auth-'));
  const ts = await startTestServer('uws', {
    server: { auth: { mode: 'jwt', jwt: { secret: SECRET } } },
    storage: { databaseUrl: `sqlite:${join(dir, 'h.sqlite')}`, flushIntervalMs: 20 },
  });
  const base = ts.url.replace('ws://', 'http://');
  const get = async (path: string, tok?: string, method = 'GET') => {
    const res = await fetch(base + path, { method, headers: tok ? { authorization: `Bearer ${tok}` } : {} });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as { code?: string; sessions?: { id: string; owner: string }[] } };
  };
  try {
    const alice = await token('alice', 'publish subscribe history:read history:delete');
    const aliceReadOnly = await token('alice', 'history:read');
    const bob = await token('bob', 'subscribe history:read history:delete');
    const admin = await token('ops', 'admin');
    const p = await probe(ts.url, `/v1/stream?access_token=${alice}`);
    p.ws.send(hello());
    const welcome = await p.waitFor((m) => m.type === 'welcome');
    const id = welcome.type === 'welcome' ? welcome.sessionId : '';

    // A live session: bob may not replay it, alice may.
    await assert.rejects(probe(ts.url, `/v1/subscribe?session=${id}&since=0&access_token=${bob}`), /HTTP 403/);
    const replay = await probe(ts.url, `/v1/subscribe?session=${id}&since=0&access_token=${alice}`);
    const sub = await replay.waitFor((m) => m.type === 'subscribed');
    assert.deepEqual(sub.type === 'subscribed' && sub.replay, { fromHop: 0, results: 0 });
    replay.ws.close();

    p.ws.send(JSON.stringify({ type: 'end' }));
    await p.closed;
    for (let i = 0; i < 100 && (await get(`/v1/sessions/${id}`, alice)).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));

    assert.equal((await get(`/v1/sessions/${id}`)).status, 401);
    assert.equal((await get(`/v1/sessions/${id}`, alice)).status, 200);
    const other = await get(`/v1/sessions/${id}`, bob);
    assert.deepEqual([other.status, other.body.code], [403, 'EMO_ERR_FORBIDDEN']);
    assert.equal((await get(`/v1/sessions/${id}/timeline?format=csv`, bob)).status, 403);
    assert.equal((await get(`/sessions/${id}`, bob)).status, 403, 'the report page too');
    assert.equal((await get(`/v1/sessions/${id}`, bob, 'DELETE')).status, 403);
    assert.equal((await get('/v1/sessions/not-there', bob)).status, 404);
    assert.deepEqual((await get('/v1/sessions', bob)).body.sessions, [], 'bob lists only his own');
    assert.equal((await get('/v1/sessions?owner=jwt:alice', bob)).status, 403);
    const mine = await get('/v1/sessions', alice);
    assert.deepEqual(mine.body.sessions!.map((s) => [s.id, s.owner]), [[id, 'jwt:alice']]);
    assert.deepEqual((await get('/v1/sessions?owner=jwt:alice', admin)).body.sessions!.map((s) => s.id), [id]);
    assert.equal((await get(`/v1/sessions/${id}`, aliceReadOnly, 'DELETE')).status, 403, 'history:delete needed');
    assert.equal((await get(`/v1/sessions/${id}`, admin, 'DELETE')).status, 204);
    assert.equal((await get(`/v1/sessions/${id}`, alice)).status, 404);
  } finally {
    await ts.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
