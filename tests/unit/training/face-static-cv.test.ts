import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasShared, loadFolds } from '../../../src/training/ravdess.js';
import { loadClipMeanAus } from '../../../src/training/face/au-data.js';
import { runStaticCv } from '../../../src/training/face/static-cv.js';
import { STATIC_MODEL_SPECS } from '../../../src/training/face/static-models.js';

test('RBF SVC C=1 on clip-mean AUs reproduces the paper (59.93 % min-max, 54.88 % raw) with its folds', { skip: hasShared() ? false : 'needs ../shared (RAVDESS)' }, async () => {
  const specs = STATIC_MODEL_SPECS.filter((s) => s.id === 'svc-c1-norm' || s.id === 'svc-c1-raw');
  const { rows } = await runStaticCv(loadClipMeanAus(), loadFolds(), specs);
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  assert.equal(byId['svc-c1-norm'].n, 1440);
  assert.ok(Math.abs(byId['svc-c1-norm'].meanAccuracy - 0.5993) < 0.005, `min-max ${byId['svc-c1-norm'].meanAccuracy}`);
  assert.ok(Math.abs(byId['svc-c1-raw'].meanAccuracy - 0.5488) < 0.005, `raw ${byId['svc-c1-raw'].meanAccuracy}`);
  assert.ok(Math.abs(byId['svc-c1-norm'].ci95 - 0.0253) < 0.001);
});
