import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { ApiKeyStore, newApiKey } from '../../../src/auth/api-keys.js';
import { authConfigSchema, limitsConfigSchema } from '../../../src/auth/config.js';
import { ANONYMOUS, checkSessionAccess, ConnectionLimits, createAuthenticator, extractCredential, OriginPolicy, redactUrl, requireScope } from '../../../src/auth/index.js';
import { FailureLimiter } from '../../../src/auth/failure-limiter.js';
import type { Identity } from '../../../src/auth/types.js';

const q = (s = '') => new URLSearchParams(s);
const id = (over: Partial<Identity>): Identity => ({ kind: 'jwt', subject: 'a', owner: 'jwt:a', scopes: ['subscribe'], session: null, limits: { maxSessions: 0, maxSubscriptions: 0 }, expiresAtMs: null, ...over });

test('credentials: Bearer header, access_token, both at once refused with 400, other schemes refused', () => {
  assert.deepEqual(extractCredential({ headers: { authorization: 'Bearer abc' }, query: q() }), { token: 'abc' });
  assert.deepEqual(extractCredential({ headers: {}, query: q('access_token=xyz') }), { token: 'xyz' });
  assert.deepEqual(extractCredential({ headers: {}, query: q() }), { token: null });
  const both = extractCredential({ headers: { authorization: 'Bearer abc' }, query: q('access_token=abc') });
  assert.ok('refusal' in both && both.refusal.status === 400 && /both/.test(both.refusal.message));
  const basic = extractCredential({ headers: { authorization: 'Basic dXNlcjpwYXNz' }, query: q() });
  assert.ok('refusal' in basic && basic.refusal.status === 401);
});

test('redactUrl replaces every query value', () => {
  assert.equal(redactUrl('/v1/subscribe?session=abc&access_token=eyJ.secret'), '/v1/subscribe?session=REDACTED&access_token=REDACTED');
  assert.equal(redactUrl('/healthz'), '/healthz');
});

test('scopes and session access: admin, pinned, owner, another identity', () => {
  assert.equal(requireScope(id({}), 'subscribe'), null);
  assert.equal(requireScope(id({}), 'publish')?.code, 'EMO_ERR_FORBIDDEN');
  assert.equal(requireScope(id({ scopes: ['admin'] }), 'history:delete'), null);
  assert.equal(checkSessionAccess(id({}), 's1', 'jwt:a'), null);
  assert.equal(checkSessionAccess(id({}), 's1', 'jwt:b')?.status, 403);
  assert.equal(checkSessionAccess(id({ session: 's1' }), 's1', 'jwt:b'), null, 'a credential pinned to the session reaches it');
  assert.equal(checkSessionAccess(id({ session: 's1' }), 's2', 'jwt:a')?.message, 'credential is pinned to another session');
  assert.equal(checkSessionAccess(id({ scopes: ['admin'] }), 's1', 'jwt:b'), null);
  assert.equal(checkSessionAccess(ANONYMOUS, 's1', 'anonymous'), null);
});

test('failure limiter: blocks after the limit until the window ends; the table stays bounded', () => {
  let t = 0;
  const f = new FailureLimiter(3, 100, 60_000, () => t);
  assert.equal(f.fail('1.1.1.1'), false);
  f.fail('1.1.1.1');
  assert.equal(f.blockedForS('1.1.1.1'), 0);
  assert.equal(f.fail('1.1.1.1'), true, 'the third failure reaches the limit');
  assert.equal(f.blockedForS('1.1.1.1'), 60);
  assert.equal(f.blockedForS('2.2.2.2'), 0);
  t = 30_000;
  assert.equal(f.blockedForS('1.1.1.1'), 30);
  t = 60_000;
  assert.equal(f.blockedForS('1.1.1.1'), 0);
  for (let i = 0; i < 1000; i++) f.fail(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(f.tracked <= 100);
});

test('API keys: SHA-256 lookup, scopes, per-key limits, expiry and disabled keys', () => {
  const a = newApiKey('cabin-7', ['publish']);
  const b = newApiKey('old', ['subscribe']);
  const c = newApiKey('off', ['admin']);
  const store = new ApiKeyStore([
    { id: 'cabin-7', sha256: a.entry.sha256 as string, scopes: ['publish'], maxSessions: 2, maxSubscriptions: 0, disabled: false },
    { id: 'old', sha256: b.entry.sha256 as string, scopes: ['subscribe'], maxSessions: 0, maxSubscriptions: 0, expires: '2020-01-01T00:00:00Z', disabled: false },
    { id: 'off', sha256: c.entry.sha256 as string, scopes: ['admin'], maxSessions: 0, maxSubscriptions: 0, disabled: true },
  ]);
  const ok = store.verify(a.key);
  assert.ok(ok.ok && ok.identity.owner === 'key:cabin-7' && ok.identity.limits.maxSessions === 2);
  const expired = store.verify(b.key);
  assert.ok(!expired.ok && expired.refusal.code === 'EMO_ERR_TOKEN_EXPIRED');
  assert.equal(store.verify(c.key).ok, false);
  assert.equal(store.verify(a.key + 'x').ok, false);
});

test('API keys file: schema errors name the key; duplicate ids refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emo-auth-keys-'));
  const f = join(dir, 'keys.json');
  writeFileSync(f, JSON.stringify({ keys: [{ id: 'x', sha256: 'nothex', scopes: ['publish'] }] }));
  assert.throws(() => ApiKeyStore.fromFile(f), /keys.0.sha256/);
  const k = newApiKey('x', ['publish']).entry;
  writeFileSync(f, JSON.stringify({ keys: [k, k] }));
  assert.throws(() => ApiKeyStore.fromFile(f), /twice/);
});

test('Authenticator: none gives the anonymous identity; failures are counted per address and then 429', async () => {
  const log = pino({ level: 'silent' });
  const none = createAuthenticator(authConfigSchema.parse({}), log);
  const anon = await none.authenticate({ headers: {}, query: q(), remoteAddress: '127.0.0.1' });
  assert.ok(anon.ok && anon.identity.kind === 'none' && anon.identity.scopes.includes('admin'));
  const auth = createAuthenticator(authConfigSchema.parse({ mode: 'jwt', jwt: { secret: 'x'.repeat(40) }, maxFailuresPerMinute: 5 }), log);
  const codes: string[] = [];
  for (let i = 0; i < 8; i++) {
    const out = await auth.authenticate({ headers: { authorization: 'Bearer nope' }, query: q(), remoteAddress: '::ffff:10.0.0.9' });
    assert.ok(!out.ok);
    codes.push(out.refusal.code);
  }
  assert.deepEqual(codes, [...Array(5).fill('EMO_ERR_UNAUTHORIZED'), ...Array(3).fill('EMO_ERR_RATE_LIMITED')]);
  const other = await auth.authenticate({ headers: {}, query: q(), remoteAddress: '10.0.0.10' });
  assert.ok(!other.ok && other.refusal.code === 'EMO_ERR_UNAUTHORIZED', 'another address is not affected');
});

test('connection limits per identity and per address, released once', () => {
  const l = new ConnectionLimits(limitsConfigSchema.parse({ maxSessionsPerIp: 2, maxSubscriptionsPerIdentity: 1 }));
  const r1 = l.acquire('session', id({}), 'a');
  const r2 = l.acquire('session', id({ owner: 'jwt:b' }), 'a');
  assert.equal(typeof r1, 'function');
  assert.equal(typeof r2, 'function');
  const r3 = l.acquire('session', id({ owner: 'jwt:c' }), 'a');
  assert.ok(typeof r3 !== 'function' && r3.status === 429);
  (r1 as () => void)();
  (r1 as () => void)();
  assert.equal(l.count('session', 'ip', 'a'), 1);
  assert.equal(typeof l.acquire('subscription', id({}), 'b'), 'function');
  assert.ok(typeof l.acquire('subscription', id({}), 'c') !== 'function');
  const keyed = l.acquire('subscription', id({ owner: 'key:k', limits: { maxSessions: 0, maxSubscriptions: 3 } }), 'd');
  assert.equal(typeof keyed, 'function');
});

test('Origin policy: none without list allows any and answers *, auth on allows same-origin and listed only', () => {
  const dev = new OriginPolicy([], false);
  assert.ok(dev.allows('https://evil.example', 'localhost:8080'));
  assert.equal(dev.corsOrigin('https://evil.example', 'localhost:8080'), '*');
  const prod = new OriginPolicy(['https://app.example'], true);
  assert.ok(prod.allows(undefined, 'x'));
  assert.ok(prod.allows('https://app.example', 'emo.example'));
  assert.ok(prod.allows('https://emo.example', 'emo.example'), 'same origin');
  assert.equal(prod.check('https://evil.example', 'emo.example')?.code, 'EMO_ERR_FORBIDDEN');
  assert.equal(prod.corsOrigin('https://app.example', 'emo.example'), 'https://app.example');
  assert.equal(prod.corsOrigin('https://evil.example', 'emo.example'), null);
});
