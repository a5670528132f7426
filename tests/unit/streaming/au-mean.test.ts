import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPipeline } from '../../../src/streaming/session-pipeline.js';
import { meanAuVector } from '../../../src/streaming/hop-result.js';
import { createMonoResampler } from '../../../src/streaming/resampler.js';
import type { EmotionResult } from '../../../src/protocol/v1/messages.js';
import { AU_VECTOR_LENGTH } from '../../../src/protocol/labels.js';
import { fakeModels } from '../../helpers/synthetic.js';

const FLOAT32_MAX = 3.4028234663852886e38;

test('AU window mean: finite for any finite float32 input (the sum of large values overflowed float32 to Infinity, sent as null)', () => {
  const frames = 4;
  const aus = new Float32Array(frames * AU_VECTOR_LENGTH).fill(FLOAT32_MAX);
  for (let k = 0; k < AU_VECTOR_LENGTH; k++) aus[k] = -FLOAT32_MAX; // one opposite frame: Inf - Inf would be NaN
  const mean = meanAuVector({ aus, frames } as Parameters<typeof meanAuVector>[0]);
  assert.ok(mean.every(Number.isFinite), `mean ${Array.from(mean.slice(0, 3))}`);
  assert.ok(Math.abs(mean[0] / FLOAT32_MAX - 0.5) < 1e-6);
});

test('results carry 35 finite numbers in aus.mean even when clients send extreme AU values', async () => {
  const { models } = fakeModels({ speech: false });
  const results: EmotionResult[] = [];
  const p = new SessionPipeline({
    sessionId: 's1', windowMs: 1000, hopMs: 250, maxPendingHops: 16, videoAnalysisFps: 10, maxBufferedChunks: 64,
    models, createResampler: createMonoResampler, onResult: (r) => results.push(r), onError: () => undefined,
  });
  for (let k = 0; k < 40; k++) p.pushAu(k * 50_000, new Float32Array(AU_VECTOR_LENGTH).fill(k % 2 ? FLOAT32_MAX : 1e38));
  await p.end();
  const withAus = results.filter((r) => r.aus);
  assert.ok(withAus.length >= 4);
  for (const r of withAus) {
    assert.equal(r.aus!.mean.length, 35);
    assert.ok(r.aus!.mean.every((v) => typeof v === 'number' && Number.isFinite(v)), `hop ${r.hop}: ${JSON.stringify(r.aus!.mean.slice(0, 3))}`);
    const wire = JSON.parse(JSON.stringify(r)) as EmotionResult;
    assert.ok(wire.aus!.mean.every((v) => v !== null), 'no null on the wire');
  }
});
