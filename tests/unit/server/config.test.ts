import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/server/config.js';
import { DEFAULT_FACE_CONFIG, pickFaceConfig, resolveFaceConfig } from '../../../src/face/config.js';

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

test('models.video takes every face pipeline setting (FaceConfig) and they reach the face pipeline unchanged', () => {
  const face = { workers: 2, maxFaces: 3, redetectEveryFrames: 10, idleDetectEveryFrames: 2, expression: false, expressionEveryFrames: 4, maxPendingFrames: 16, frameTimeoutMs: 2000, minMeshScore: 0.6 };
  const c = loadConfig({ env: {}, overrides: { models: { video: { enabled: true, ...face } } } });
  // What loadVideoAnalyzer(config) reads from the frozen AppConfig, and what it validates.
  const picked = pickFaceConfig(c);
  for (const [k, v] of Object.entries(face)) assert.equal(picked[k as keyof typeof picked], v, k);
  assert.equal(picked.maxFrameBytes, c.server.maxFrameBytes, 'the protocol frame limit is the analyzer frame limit');
  const resolved = resolveFaceConfig(picked);
  assert.equal(resolved.workers, 2);
  assert.equal(resolved.calibrationHistoryFrames, DEFAULT_FACE_CONFIG.calibrationHistoryFrames, 'unset keys take the face defaults');
  const env = loadConfig({ env: { EMOSTREAM_VIDEO_WORKERS: '3', EMOSTREAM_VIDEO_EXPRESSION: 'off' } });
  assert.equal(env.models.video.workers, 3);
  assert.equal(env.models.video.expression, false);
});

test('every FaceConfig key is accepted under models.video and documented with the face default', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const keys = [...Object.keys(DEFAULT_FACE_CONFIG), 'modelDir'] as (keyof typeof DEFAULT_FACE_CONFIG | 'modelDir')[];
  for (const k of keys) {
    const value = k === 'modelDir' ? '/tmp/face-models' : DEFAULT_FACE_CONFIG[k];
    const c = loadConfig({ env: {}, overrides: { models: { video: { [k]: value } } } });
    assert.equal((c.models.video as Record<string, unknown>)[k], value, `models.video.${k} accepted`);
    const row = doc.split('\n').find((l) => l.startsWith(`| models.video.${k} |`));
    assert.ok(row, `docs/configuration.md documents models.video.${k}`);
    // In the server the analyzer's frame limit defaults to the protocol's (server.maxFrameBytes); the row says both.
    if (k === 'maxFrameBytes') assert.ok(row.includes(String(DEFAULT_FACE_CONFIG.maxFrameBytes)));
    else if (k !== 'modelDir') assert.equal(row.split('|')[2].trim(), String(DEFAULT_FACE_CONFIG[k]), `documented default of ${k}`);
  }
  assert.throws(() => loadConfig({ env: {}, overrides: { models: { video: { maxFaces: 0 } } } }), /models\.video\.maxFaces/);
  assert.throws(() => loadConfig({ env: {}, overrides: { models: { video: { workerz: 2 } } } as never }), /models\.video/);
});

test('streaming.featureWorkers: default, environment, bounds', () => {
  assert.equal(loadConfig({ env: {} }).streaming.featureWorkers, availableParallelism() >= 2 ? 1 : 0);
  assert.equal(loadConfig({ env: { EMOSTREAM_FEATURE_WORKERS: '2' } }).streaming.featureWorkers, 2);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_FEATURE_WORKERS: '-1' } }), /streaming\.featureWorkers/);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_FEATURE_WORKERS: '1.5' } }), /EMOSTREAM_FEATURE_WORKERS=1\.5: expected an integer/);
});

test('webrtc.*: the EMOSTREAM_WEBRTC_* variables fill the schema section, with their defaults and checks', async () => {
  const { peerConfigFromConfig } = await import('../../../src/webrtc/config.js');
  const bare = loadConfig({ env: {} });
  assert.deepEqual({ ...bare.webrtc, iceHosts: [...bare.webrtc.iceHosts] }, { iceTimeoutMs: 10000, mediaTimeoutMs: 6000, videoSize: '640x480', iceHosts: ['127.0.0.1'] });
  assert.equal(peerConfigFromConfig(bare).maxSessions, bare.server.maxSessions, 'default: server.maxSessions');
  const c = loadConfig({ env: {
    EMOSTREAM_WEBRTC_ICE_TIMEOUT_MS: '2500', EMOSTREAM_WEBRTC_MEDIA_TIMEOUT_MS: '3000', EMOSTREAM_WEBRTC_MAX_SESSIONS: '7',
    EMOSTREAM_WEBRTC_VIDEO_SIZE: '320x240', EMOSTREAM_WEBRTC_ICE_HOSTS: '10.0.0.1, 10.0.0.2', EMOSTREAM_WEBRTC_PORT_RANGE: '40000-40100',
  } });
  const { peer, maxSessions } = peerConfigFromConfig(c);
  assert.equal(maxSessions, 7);
  assert.deepEqual(peer, { analysisFps: 10, iceTimeoutMs: 2500, mediaTimeoutMs: 3000, videoWidth: 320, videoHeight: 240, iceAdditionalHostAddresses: ['10.0.0.1', '10.0.0.2'], icePortRange: [40000, 40100] });
  assert.throws(() => loadConfig({ env: { EMOSTREAM_WEBRTC_VIDEO_SIZE: '641x480' } }), /webrtc\.videoSize: expected an even WIDTHxHEIGHT/);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_WEBRTC_PORT_RANGE: '5000-4000' } }), /webrtc\.portRange/);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_WEBRTC_ICE_TIMEOUT_MS: '-1' } }), /webrtc\.iceTimeoutMs/);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_WEBRTC_MAX_SESSIONS: 'x' } }), /EMOSTREAM_WEBRTC_MAX_SESSIONS=x: expected an integer/);
});
