import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { EmoSubscriber } from '../../../clients/node/index.js';
import { newApiKey } from '../../../src/auth/api-keys.js';
import type { TestServer } from '../../helpers/server.js';
import { refused, serverWithSteady, type SteadySession, token, upgrade } from '../../helpers/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'emo-auth-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('API keys (uws)', () => {
  let ts: TestServer;
  let steady: SteadySession;
  let close: () => Promise<void>;
  const cabin = newApiKey('cabin-7', ['publish']);
  const viewer = newApiKey('viewer', ['subscribe']);
  const ops = newApiKey('ops', ['admin']);
  const old = newApiKey('old', ['publish']);
  before(async () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...cabin.entry, maxSessions: 1 }, viewer.entry, ops.entry, { ...old.entry, expires: '2021-01-01T00:00:00Z' }] }));
    ({ ts, steady, close } = await serverWithSteady('uws', { server: { auth: { mode: 'api-key', apiKeysFile: file } } }, cabin.key));
  });
  after(() => close());

  test('a key publishes up to its own session limit; unknown, expired and JWT credentials are refused', async () => {
    assert.match(await refused(`${ts.url}/v1/stream`, { token: cabin.key }, 429, 'EMO_ERR_TOO_MANY_SESSIONS'), /maximum of 1/);
    await refused(`${ts.url}/v1/stream`, { token: newApiKey('nobody', ['publish']).key }, 401, 'EMO_ERR_UNAUTHORIZED');
    await refused(`${ts.url}/v1/stream`, { token: old.key }, 401, 'EMO_ERR_TOKEN_EXPIRED');
    await refused(`${ts.url}/v1/stream`, { token: await token('alice', ['publish']) }, 401, 'EMO_ERR_UNAUTHORIZED');
    await refused(`${ts.url}/v1/stream`, { token: viewer.key }, 403, 'EMO_ERR_FORBIDDEN');
    await steady.more();
  });

  test("another key's session is forbidden to a subscribe key, open to an admin key", async () => {
    await refused(`${ts.url}/v1/subscribe?session=${steady.sessionId}`, { token: viewer.key }, 403, 'EMO_ERR_FORBIDDEN');
    const sub = await EmoSubscriber.connect(ts.url, steady.sessionId, 10_000, { token: ops.key });
    let results = 0;
    for await (const m of sub.messages()) if (m.type === 'emotion' && ++results >= 2) break;
    sub.close();
    await steady.more();
  });
});

describe('RS256 via a JWKS file (ws)', () => {
  let ts: TestServer;
  let steady: SteadySession;
  let close: () => Promise<void>;
  const idp = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rogue = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs256 = (key: typeof idp.privateKey, iss = 'https://idp.example') => new SignJWT({ scope: 'publish' })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' }).setSubject('device-9').setAudience('emostream').setIssuer(iss)
    .setExpirationTime('5m').sign(key);
  before(async () => {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }] }));
    ({ ts, steady, close } = await serverWithSteady('ws', { server: { auth: { mode: 'jwt', jwt: { jwksFile: file, issuer: 'https://idp.example' } } } }, rs256(idp.privateKey)));
  });
  after(() => close());

  test("the identity provider's RS256 token streams; another key, another issuer and HS256 are refused", async () => {
    await refused(`${ts.url}/v1/stream`, { token: await rs256(rogue.privateKey) }, 401, 'EMO_ERR_UNAUTHORIZED');
    await refused(`${ts.url}/v1/stream`, { token: await rs256(idp.privateKey, 'https://other.example') }, 401, 'EMO_ERR_UNAUTHORIZED');
    await refused(`${ts.url}/v1/stream`, { token: await token('device-9', ['publish']) }, 401, 'EMO_ERR_UNAUTHORIZED');
    const second = await upgrade(`${ts.url}/v1/stream`, { token: await rs256(idp.privateKey) });
    assert.equal(second.status, 101);
    if ('ws' in second) second.ws.close();
    await steady.more();
  });
});
