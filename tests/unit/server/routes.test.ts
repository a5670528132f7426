import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteTable } from '../../../src/server/routes.js';

const req = (method: string, path: string) => ({ method, path, query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) });

test('patterns: literals, :params, trailing wildcard; 404 vs 405; per-route body limits', async () => {
  const r = new RouteTable(100);
  r.add('DELETE', '/v1/whip/:id', (q) => ({ status: 200, body: q.params.id }));
  r.add('GET', '/files/*', (q) => ({ status: 200, body: q.params['*'] }), { bodyLimitBytes: 5 });
  assert.equal((await r.dispatch(req('DELETE', '/v1/whip/a%20b'))).body, 'a b');
  assert.equal((await r.dispatch(req('GET', '/files/x/y.js'))).body, 'x/y.js');
  assert.equal((await r.dispatch(req('GET', '/v1/whip/a'))).status, 405);
  assert.equal((await r.dispatch(req('GET', '/nothing'))).status, 404);
  assert.equal(r.bodyLimit('GET', '/files/a'), 5);
  assert.equal(r.bodyLimit('POST', '/unknown'), 100);
});

test('a throwing handler is a 500, not a crash', async () => {
  const r = new RouteTable(100);
  r.add('GET', '/boom', () => { throw new Error('bad'); });
  assert.equal((await r.dispatch(req('GET', '/boom'))).status, 500);
});

test('static files: index.html, content types, no escaping the folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emo-static-'));
  mkdirSync(join(dir, 'js'));
  writeFileSync(join(dir, 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(dir, 'js', 'app.js'), 'x=1');
  const r = new RouteTable(100);
  r.static('/', dir);
  const index = await r.dispatch(req('GET', '/'));
  assert.equal(index.status, 200);
  assert.equal(String(index.body), '<h1>hi</h1>');
  const js = await r.dispatch(req('GET', '/js/app.js'));
  assert.match(js.headers!['content-type'], /javascript/);
  assert.ok([403, 404].includes((await r.dispatch(req('GET', '/../../etc/passwd'))).status));
  assert.notEqual((await r.dispatch(req('GET', '/%2e%2e/%2e%2e/etc/passwd'))).status, 200);
  rmSync(dir, { recursive: true, force: true });
});
