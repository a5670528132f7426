import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/server/config.js';
import { startTestServer } from '../../helpers/server.js';
import { capturingLogger, refused, SECRET, SteadySession, token, upgrade } from '../../helpers/auth.js';
import { tinyLoaders } from '../../helpers/tiny-models.js';

test('defaults: loopback, auth none; env selects jwt and its secret; a jwt mode without a key does not start', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.auth.mode, 'none');
  const j = loadConfig({ env: { EMOSTREAM_AUTH: 'jwt', EMOSTREAM_AUTH_JWT_SECRET: SECRET, EMOSTREAM_ALLOWED_ORIGINS: 'https://a.example, https://b.example' } });
  assert.equal(j.server.auth.jwt.secret, SECRET);
  assert.deepEqual(j.server.allowedOrigins, ['https://a.example', 'https://b.example']);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_AUTH: 'jwt' } }), /server.auth.jwt: auth mode jwt needs/);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_TLS_CERT_FILE: '/x.pem' } }), /both certFile and keyFile/);
});

test('auth none on a non-loopback host: one loud warning; /v1/models shows no paths; CORS stays *', async () => {
  const log = capturingLogger();
  const ts = await startTestServer('ws', { server: { host: '0.0.0.0' }, plugins: ['../webrtc/index.ts'] }, tinyLoaders(), log.logger);
  try {
    const warnings = log.lines.filter((l) => l.includes('SECURITY WARNING'));
    assert.equal(warnings.length, 1);
    const http = ts.url.replace('ws://', 'http://');
    const models = await (await fetch(`${http}/v1/models`)).text();
    assert.ok(!models.includes(ts.dirs.speech), 'no filesystem path with auth none');
    assert.match(models, /"available":true/);
    const opt = await fetch(`${http}/v1/whip`, { method: 'OPTIONS', headers: { origin: 'https://anywhere.example' } });
    assert.equal(opt.headers.get('access-control-allow-origin'), '*');
    assert.equal((await fetch(`${http}/metrics`)).status, 200, '/metrics stays open without auth');
  } finally {
    await ts.close();
  }
  const quiet = capturingLogger();
  const local = await startTestServer('ws', {}, tinyLoaders(), quiet.logger);
  await local.close();
  assert.equal(quiet.lines.filter((l) => l.includes('SECURITY WARNING')).length, 0, 'no warning on loopback');
});

test('auth on: CORS echoes listed origins only; per-address session limit answers 429 and frees the slot on close', async () => {
  const ts = await startTestServer('uws', {
    server: { auth: { mode: 'jwt', jwt: { secret: SECRET } }, allowedOrigins: ['https://app.example'], limits: { maxSessionsPerIp: 2 } },
    plugins: ['../webrtc/index.ts'],
  });
  try {
    const http = ts.url.replace('ws://', 'http://');
    const ok = await fetch(`${http}/v1/whip`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(ok.headers.get('vary') ?? '', /Origin/);
    const evil = await fetch(`${http}/v1/whip`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const tok = await token('alice', ['publish']);
    const steady = await SteadySession.start(ts.url, tok);
    const second = await upgrade(`${ts.url}/v1/stream`, { token: tok, headers: { origin: 'https://app.example' } });
    assert.equal(second.status, 101);
    assert.match(await refused(`${ts.url}/v1/stream`, { token: await token('bob', ['publish']) }, 429, 'EMO_ERR_TOO_MANY_SESSIONS'), /address/);
    if ('ws' in second) {
      second.ws.close();
      await new Promise((r) => second.ws.once('close', r));
    }
    // The closed connection gave its slot back (the server sees the close a moment later).
    let again = await upgrade(`${ts.url}/v1/stream`, { token: tok });
    for (let i = 0; i < 40 && again.status !== 101; i++) {
      await new Promise((r) => setTimeout(r, 50));
      again = await upgrade(`${ts.url}/v1/stream`, { token: tok });
    }
    assert.equal(again.status, 101);
    if ('ws' in again) again.ws.close();
    await steady.more();
    await steady.stop();
  } finally {
    await ts.close();
  }
});
