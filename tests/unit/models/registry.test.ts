import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelRegistry, type ModelLoaders, type RegistryConfig } from '../../../src/models/registry.js';
import { EMOTIONS } from '../../../src/protocol/labels.js';
import type { FaceModel, Fusion } from '../../../src/contracts/models.js';
import { oneHot } from '../../helpers/synthetic.js';
import { pipelineModels } from '../../../src/compose/models.js';

const config: RegistryConfig = {
  speech: { enabled: true }, face: { enabled: true }, fusion: { enabled: true }, video: { enabled: false },
  batching: { enabled: true, maxBatch: 8, maxDelayMs: 20, maxQueue: 16 }, workers: 1,
};
const noRunner = async () => { throw new Error('no ONNX in this test'); };

test('missing modules and unavailable models are reported, logged once each, and left out of the pipeline', async () => {
  const logs: string[] = [];
  const missing = Object.assign(new Error("Cannot find module '/x/src/models/speech/index.ts'"), { code: 'ERR_MODULE_NOT_FOUND' });
  const loaders: ModelLoaders = {
    speech: async () => { throw missing; },
    face: async () => ({
      name: 'face-x', modality: 'face', inferBatch: async () => [], dispose: async () => undefined,
      status: () => ({ name: 'face-x', modality: 'face', available: false, error: 'weights missing: models/face/model.onnx', labels: EMOTIONS }),
    }) as FaceModel,
    fusion: async () => ({ status: () => ({ name: 'lr', modality: 'fusion', available: true, labels: EMOTIONS }), fuse: () => ({ probs: oneHot(1), head: 'face' }) }) as Fusion,
    video: async () => { throw new Error('should not be called: disabled'); },
  };
  const r = await ModelRegistry.load(config, noRunner, loaders, { log: (level, msg) => logs.push(`${level} ${msg}`) }, {});
  const s = r.summary();
  assert.deepEqual(s.map((m) => [m.name, m.available]), [['speech', false], ['face-x', false], ['lr', true], ['video', false]]);
  assert.match(s[0].error!, /not in this build/);
  assert.match(s[1].error!, /weights missing/);
  assert.match(s[3].error!, /disabled in configuration/);
  const pm = pipelineModels(r, null);
  assert.equal(pm.speech, null);
  assert.equal(pm.face, null);
  assert.ok(pm.fusion);
  assert.equal(logs.filter((l) => l.startsWith('warn')).length, 2);
  await r.dispose();
});

test('an available model gets a batcher: windows from separate submits share one inferBatch call', async () => {
  const calls: number[] = [];
  const loaders: ModelLoaders = {
    speech: async () => { throw new Error('none'); },
    face: async () => ({
      name: 'face-ok', modality: 'face', dispose: async () => undefined,
      status: () => ({ name: 'face-ok', modality: 'face', available: true, provider: 'cpu', labels: EMOTIONS }),
      inferBatch: async (ws) => { calls.push(ws.length); return ws.map((w) => oneHot(w.frames % 8)); },
    }) as FaceModel,
    fusion: async () => { throw new Error('none'); },
    video: async () => { throw new Error('none'); },
  };
  const r = await ModelRegistry.load(config, noRunner, loaders, { log: () => undefined }, {});
  const face = pipelineModels(r, null).face!;
  const out = await Promise.all([1, 2, 3].map((frames) => face.infer({ aus: new Float32Array(35 * frames), frames })));
  assert.deepEqual(calls, [3]);
  assert.deepEqual(out.map((o) => o!.probs.indexOf(1)), [1, 2, 3]);
  assert.equal(r.summary()[1].provider, 'cpu');
  await r.dispose();
});
