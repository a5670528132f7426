import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/server/config.js';

test('defaults are documented values and the result is deeply frozen', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.server.port, 8080);
  assert.equal(c.server.transport, 'uws');
  assert.equal(c.streaming.windowMs, 3000);
  assert.equal(c.streaming.hopMs, 500);
  assert.equal(c.models.executionProvider, 'cpu');
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.server) && Object.isFrozen(c.models.batching));
  assert.throws(() => { (c.server as { port: number }).port = 1; });
});

test('file < env < overrides, with typed env parsing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emo-cfg-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ server: { port: 9000, host: '127.0.0.1' }, streaming: { hopMs: 250 } }));
  const c = loadConfig({ file, env: { EMOSTREAM_PORT: '9100', EMOSTREAM_BATCHING: 'off', EMOSTREAM_MAX_DELAY_MS: '1.5' }, overrides: { streaming: { windowMs: 2000 } } });
  assert.equal(c.server.port, 9100);
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.streaming.hopMs, 250);
  assert.equal(c.streaming.windowMs, 2000);
  assert.equal(c.models.batching.enabled, false);
  assert.equal(c.models.batching.maxDelayMs, 1.5);
  rmSync(dir, { recursive: true, force: true });
});

test('invalid values and unknown keys are clear errors', () => {
  assert.throws(() => loadConfig({ env: { EMOSTREAM_PORT: 'abc' } }), /EMOSTREAM_PORT=abc: expected an integer/);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_PROVIDER: 'tpu' } }), /models\.executionProvider/);
  assert.throws(() => loadConfig({ env: {}, overrides: { server: { port: 70000 } } }), /server\.port/);
  assert.throws(() => loadConfig({ env: {}, overrides: { nonsense: 1 } as never }), /invalid configuration/);
  assert.throws(() => loadConfig({ env: {}, overrides: { streaming: { windowMs: 1000, hopMs: 2000 } } }), /hopMs \(2000\) must not exceed/);
  assert.throws(() => loadConfig({ file: '/nonexistent/emo.json', env: {} }), /cannot read config file/);
});
