import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { mintToken, parseScopes, parseTtlS } from '../../../src/auth/mint.js';
import { withoutPaths } from '../../../src/auth/public-view.js';

test('parseTtlS and parseScopes: units, bounds, unknown scopes are errors', () => {
  assert.deepEqual(['90s', '15m', '12h', '7d', '30'].map(parseTtlS), [90, 900, 43_200, 604_800, 30]);
  for (const bad of ['0', '15 minutes', '-5m', '400d']) assert.throws(() => parseTtlS(bad), /--ttl/);
  assert.deepEqual(parseScopes(['publish,subscribe', 'history:read', 'publish']), ['publish', 'subscribe', 'history:read']);
  assert.throws(() => parseScopes(['publsh']), /unknown scope publsh/);
  assert.throws(() => parseScopes([]), /at least one/);
});

test('mintToken: HS256 with sub, aud, scope, session, iat and exp', async () => {
  const t = await mintToken({ secret: 's'.repeat(40), sub: 'dr-lee', scopes: ['subscribe'], session: 'visit-1', ttlS: 60, audience: 'emostream', issuer: 'https://backend' });
  assert.equal(decodeProtectedHeader(t).alg, 'HS256');
  const c = decodeJwt(t);
  assert.equal(c.sub, 'dr-lee');
  assert.equal(c.aud, 'emostream');
  assert.equal(c.iss, 'https://backend');
  assert.equal(c.scope, 'subscribe');
  assert.equal(c.session, 'visit-1');
  assert.equal((c.exp ?? 0) - (c.iat ?? 0), 60);
  await assert.rejects(mintToken({ secret: 's'.repeat(40), sub: 'x', scopes: ['publish'], session: 'bad id', ttlS: 60, audience: 'emostream' }), /session id/);
});

test('withoutPaths drops path keys and cuts absolute paths in strings down to the file name', () => {
  const v = withoutPaths({
    models: [{ name: 'speech', path: '/srv/models/speech/model.onnx', error: 'cannot read /srv/models/face/model.onnx: ENOENT', details: { dir: '/srv/x', inputs: 3 } }],
    windows: 'C:\\models\\speech\\a.onnx missing',
  });
  assert.deepEqual(v, { models: [{ name: 'speech', error: 'cannot read model.onnx: ENOENT', details: { inputs: 3 } }], windows: 'a.onnx missing' });
});
