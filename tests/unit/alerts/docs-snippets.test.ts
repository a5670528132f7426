import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signBody } from '../../../src/alerts/signature.js';

/** The verification snippets of docs/alerts.md, run as written against a body signed the way the server signs it. */
const doc = readFileSync(new URL('../../../docs/alerts.md', import.meta.url), 'utf8');
const block = (lang: string): string => {
  const m = doc.match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  assert.ok(m, `docs/alerts.md has a ${lang} block`);
  return m[1];
};

const SECRET = 'doc-secret-0123456789';
function delivery(timestamp: number) {
  const body = JSON.stringify({ id: 'd1', timestamp, attempt: 1, alert: { type: 'alert', rule: 'r', value: 0.7 } });
  return { body, signature: signBody(SECRET, body), timestamp: String(timestamp) };
}

test('docs/alerts.md: the Node verification snippet accepts a genuine delivery and refuses tampered or replayed ones', () => {
  const source = block('js').replace(/^import .*$/m, '');
  type Verify = (secret: string, raw: string, headers: Record<string, string>) => boolean;
  // The documented snippet is the code under test.
  const verify = new Function('createHmac', 'timingSafeEqual', `${source}\nreturn verify;`)(createHmac, timingSafeEqual) as Verify;
  const now = Math.floor(Date.now() / 1000);
  const d = delivery(now);
  const headers = { 'x-emostream-signature': d.signature, 'x-emostream-timestamp': d.timestamp };
  assert.equal(verify(SECRET, d.body, headers), true);
  assert.equal(verify(SECRET, d.body.replace('0.7', '0.9'), headers), false);
  assert.equal(verify(SECRET, d.body, { ...headers, 'x-emostream-timestamp': String(now + 5) }), false);
  const old = delivery(now - 3600);
  assert.equal(verify(SECRET, old.body, { 'x-emostream-signature': old.signature, 'x-emostream-timestamp': old.timestamp }), false);
});

test('docs/alerts.md: the Python verification snippet agrees', (t) => {
  const probe = spawnSync('python3', ['--version']);
  if (probe.error || probe.status !== 0) {
    t.skip('python3 is not installed: the Python snippet is not checked');
    return;
  }
  const now = Math.floor(Date.now() / 1000);
  const good = delivery(now);
  const old = delivery(now - 3600);
  const cases = [
    [good.body, good.signature, good.timestamp],
    [good.body.replace('0.7', '0.9'), good.signature, good.timestamp],
    [good.body, good.signature, String(now + 5)],
    [old.body, old.signature, old.timestamp],
  ];
  const script = `${block('python')}
import sys
for body, sig, ts in json.loads(sys.stdin.read()):
    print(verify(${JSON.stringify(SECRET)}.encode(), body.encode(), {'X-Emostream-Signature': sig, 'X-Emostream-Timestamp': ts}))
`;
  const run = spawnSync('python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.stdout.trim().split('\n'), ['True', 'False', 'False', 'False']);
});
