import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPipeline } from '../../../src/streaming/session-pipeline.js';
import { createMonoResampler } from '../../../src/streaming/resampler.js';
import { PosteriorSmoother, type PosteriorSmootherOptions } from '../../../src/streaming/posterior-smoother.js';
import { EMOTIONS } from '../../../src/protocol/labels.js';
import type { EmotionResult } from '../../../src/protocol/v1/messages.js';
import type { PipelineModels } from '../../../src/streaming/pipeline-models.js';
import { auFrames, oneHot } from '../../helpers/synthetic.js';
import { loadConfig } from '../../../src/server/config.js';

const HAPPY = EMOTIONS.indexOf('happy');
const ANGRY = EMOTIONS.indexOf('angry');

/** A face model whose n-th call returns script[n] (one call per hop, in hop order: one hop is in inference at a time). */
function scriptedFace(script: (Float32Array | 'fail')[]): PipelineModels {
  let call = 0;
  return {
    speech: null,
    face: {
      name: 'scripted-face',
      infer: async () => {
        const next = script[Math.min(call++, script.length - 1)];
        if (next === 'fail') throw new Error('scripted failure');
        return { probs: next, queueMs: 0, inferMs: 0, batchSize: 1 };
      },
    },
    fusion: null,
    video: null,
  };
}

async function run(models: PipelineModels, smoothing?: PosteriorSmootherOptions): Promise<EmotionResult[]> {
  const results: EmotionResult[] = [];
  const p = new SessionPipeline({
    sessionId: 's', windowMs: 1000, hopMs: 250, maxPendingHops: 64, videoAnalysisFps: 10, maxBufferedChunks: 8,
    models, createResampler: createMonoResampler, onResult: (r) => results.push(r), onError: (e) => assert.fail(String(e)),
    ...(smoothing ? { smoothing } : {}),
  });
  for (const f of auFrames({ seconds: 4, fps: 20 })) {
    p.pushAu(f.ptsUs, f.aus);
    await new Promise((r) => setImmediate(r));
  }
  await p.end();
  return results;
}

test('smoothed: the fused posterior smoothed in session time with a sticky label; null with fused, state kept', async () => {
  const script = [...Array(6).fill(oneHot(HAPPY)), 'fail' as const, ...Array(20).fill(oneHot(ANGRY))];
  const options = { halfLifeMs: 1000, switchMargin: 0.1 };
  const results = await run(scriptedFace(script), options);
  assert.ok(results.length >= 15, `${results.length} results`);
  const failed = results.filter((r) => r.fused === null);
  assert.equal(failed.length, 1, 'the one failing window has no fused posterior');
  assert.equal(failed[0].smoothed, null, 'and no smoothed one');
  // The same smoother run by hand over the fused posteriors at each window end gives every smoothed field.
  const reference = new PosteriorSmoother(options);
  for (const r of results) {
    if (r.repeatOfHop !== undefined) continue;
    if (!r.fused) continue;
    assert.deepEqual(r.smoothed, reference.update(r.fused.probs, r.windowEndUs / 1000), `hop ${r.hop}`);
  }
  assert.equal(results[0].smoothed!.label, 'happy');
  // After the switch to angry the raw label flips at once; the smoothed label follows only once angry leads by 0.1.
  const firstAngry = results.findIndex((r) => r.fused?.label === 'angry');
  assert.equal(results[firstAngry].smoothed!.label, 'happy', 'one angry hop does not flip the smoothed label');
  const flip = results.findIndex((r) => r.smoothed?.label === 'angry');
  assert.ok(flip > firstAngry, `smoothed label flips at result ${flip}, after the raw one at ${firstAngry}`);
  const s = results[flip].smoothed!.probs;
  assert.ok(s[ANGRY] - s[HAPPY] >= 0.1, 'it flips when angry leads by the switch margin');
  // The state survived the failed window: the first result after it is a mix, not a fresh start.
  const after = results[results.indexOf(failed[0]) + 1].smoothed!.probs;
  assert.ok(after[HAPPY] > 0.3 && after[ANGRY] > 0.1, `mix after the gap: ${after[HAPPY]} happy, ${after[ANGRY]} angry`);
  assert.equal(results.at(-1)!.smoothed!.label, 'angry');
});

test('smoothed: half-life 0 turns smoothing off (smoothed = fused)', async () => {
  const results = await run(scriptedFace([oneHot(HAPPY), oneHot(HAPPY), oneHot(ANGRY)]), { halfLifeMs: 0, switchMargin: 0 });
  for (const r of results) assert.deepEqual(r.smoothed, { probs: r.fused!.probs, label: r.fused!.label });
});

test('smoothing config: defaults, env, and out-of-range values refused at start', () => {
  assert.deepEqual(loadConfig({ env: {} }).streaming.smoothing, { halfLifeMs: 2000, switchMargin: 0.1 });
  assert.equal(loadConfig({ env: { EMOSTREAM_SMOOTHING_HALF_LIFE_MS: '750' } }).streaming.smoothing.halfLifeMs, 750);
  assert.throws(() => loadConfig({ env: {}, overrides: { streaming: { smoothing: { switchMargin: 1 } } } }), /streaming\.smoothing\.switchMargin/);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_SMOOTHING_HALF_LIFE_MS: '-5' } }), /streaming\.smoothing\.halfLifeMs/);
});
