import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/server/config.js';
import { browserUrl, resolveLogFormat } from '../../../src/server/logger.js';

test('log format: auto is pretty on a terminal and JSON otherwise; json and pretty are taken as asked', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('pretty', false), 'pretty');
});

test('log format: default auto, EMOSTREAM_LOG_FORMAT sets it, anything else is refused', () => {
  assert.equal(loadConfig({ env: {} }).log.format, 'auto');
  assert.equal(loadConfig({ env: { EMOSTREAM_LOG_FORMAT: 'json' } }).log.format, 'json');
  assert.throws(() => loadConfig({ env: { EMOSTREAM_LOG_FORMAT: 'xml' } }));
});

test('the URL to open: a wildcard bind is reached on loopback; IPv6 hosts are bracketed', () => {
  assert.equal(browserUrl('0.0.0.0', 8080), 'http://127.0.0.1:8080/');
  assert.equal(browserUrl('::', 8080), 'http://127.0.0.1:8080/');
  assert.equal(browserUrl('192.168.1.5', 9000), 'http://192.168.1.5:9000/');
  assert.equal(browserUrl('::1', 8080), 'http://[::1]:8080/');
});
