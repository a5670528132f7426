import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportJWK, SignJWT, UnsecuredJWT } from 'jose';
import { authConfigSchema } from '../../../src/auth/config.js';
import { JwtVerifier } from '../../../src/auth/jwt.js';

const SECRET = 'unit-test-secret-0123456789abcdef-0123456789';
const enc = new TextEncoder();
const jwtCfg = (over: Record<string, unknown> = {}) => authConfigSchema.parse({ mode: 'jwt', jwt: { secret: SECRET, ...over } }).jwt;
const now = () => Math.floor(Date.now() / 1000);

function hs(claims: Record<string, unknown>, secret = SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(enc.encode(secret));
}
const good = { sub: 'alice', aud: 'emostream', scope: 'publish subscribe', exp: now() + 60 };

test('a valid HS256 token gives an identity with its scopes, owner and session', async () => {
  const out = await new JwtVerifier(jwtCfg()).verify(await hs({ ...good, session: 'room-1' }));
  assert.ok(out.ok);
  assert.equal(out.identity.owner, 'jwt:alice');
  assert.deepEqual([...out.identity.scopes].sort(), ['publish', 'subscribe']);
  assert.equal(out.identity.session, 'room-1');
});

test('refused: other secret, alg none, truncated, expired, nbf future, wrong aud, no exp, HS384', async () => {
  const v = new JwtVerifier(jwtCfg());
  const cases: [string, string, string][] = [
    [await hs(good, 'another-secret-0123456789abcdef-0123456789'), 'EMO_ERR_UNAUTHORIZED', 'signature'],
    [new UnsecuredJWT(good).encode(), 'EMO_ERR_UNAUTHORIZED', 'algorithm'],
    [(await hs(good)).slice(0, -10), 'EMO_ERR_UNAUTHORIZED', ''],
    [(await hs(good)).split('.').slice(0, 2).join('.'), 'EMO_ERR_UNAUTHORIZED', 'malformed'],
    [await hs({ ...good, exp: now() - 120 }), 'EMO_ERR_TOKEN_EXPIRED', 'exp'],
    [await hs({ ...good, nbf: now() + 120 }), 'EMO_ERR_TOKEN_EXPIRED', 'nbf'],
    [await hs({ ...good, aud: 'someone-else' }), 'EMO_ERR_UNAUTHORIZED', 'aud'],
    [await hs({ sub: 'a', aud: 'emostream', scope: 'publish' }), 'EMO_ERR_UNAUTHORIZED', 'exp'],
    [await hs(good, SECRET, 'HS384'), 'EMO_ERR_UNAUTHORIZED', 'algorithm'],
    [await hs({ ...good, session: 'bad id with spaces' }), 'EMO_ERR_UNAUTHORIZED', 'session'],
    ['x'.repeat(10_000), 'EMO_ERR_UNAUTHORIZED', 'longer'],
  ];
  for (const [token, code, word] of cases) {
    const out = await v.verify(token);
    assert.equal(out.ok, false, `accepted: ${word}`);
    if (!out.ok) {
      assert.equal(out.refusal.code, code, out.refusal.message);
      assert.equal(out.refusal.status, 401);
      assert.ok(out.refusal.message.includes(word), `${out.refusal.message} should mention ${word}`);
      assert.ok(!out.refusal.message.includes(token.slice(0, 20)), 'the message never echoes the token');
    }
  }
});

test('RS256 via a JWKS file and ES256 via a PEM key verify; a HS256 token signed with the public key does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emo-auth-jwt-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'ec.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
  const v = new JwtVerifier(authConfigSchema.parse({ mode: 'jwt', jwt: { jwksFile: join(dir, 'jwks.json'), publicKeyFile: join(dir, 'ec.pem'), issuer: 'https://idp' } }).jwt);
  const claims = { ...good, iss: 'https://idp' };
  const rs = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(rsa.privateKey);
  assert.ok((await v.verify(rs)).ok);
  const es = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey);
  assert.ok((await v.verify(es)).ok);
  const wrongIss = await new SignJWT({ ...good, iss: 'https://evil' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(rsa.privateKey);
  assert.equal((await v.verify(wrongIss)).ok, false);
  // Key confusion: the public key's bytes used as an HMAC secret.
  const pemBytes = enc.encode(String(rsa.publicKey.export({ type: 'spki', format: 'pem' })));
  const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(pemBytes);
  const out = await v.verify(confused);
  assert.equal(out.ok, false);
});

test('config: jwt mode without any key and api-key mode without a file are refused', () => {
  assert.throws(() => authConfigSchema.parse({ mode: 'jwt' }), /jwt.secret/);
  assert.throws(() => authConfigSchema.parse({ mode: 'api-key' }), /apiKeysFile/);
  assert.throws(() => authConfigSchema.parse({ mode: 'jwt', jwt: { secret: 'short' } }), /32 characters/);
});
