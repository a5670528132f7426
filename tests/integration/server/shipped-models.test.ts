import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { EmoStreamClient } from '../../../clients/node/index.js';
import { readAuCsv } from '../../../clients/node/openface-csv.js';
import { replay } from '../../../clients/node/replay.js';
import { createEmoServer } from '../../../src/server/app.js';
import { loadConfig } from '../../../src/server/config.js';
import { hasShared, RAVDESS_DIR } from '../../../src/training/ravdess.js';
import { readWavS16 } from '../../../bench/wav.js';

/**
 * The real server with whatever models are shipped in models/ (the default loaders), on a real RAVDESS clip: every
 * model that reports itself available must produce posteriors, every unavailable one must be null. Nothing about
 * accuracy here: the model cards hold that.
 */
test('shipped models on a RAVDESS clip: available models give posteriors, unavailable ones are null', { skip: hasShared() ? false : 'needs ../shared (RAVDESS)' }, async () => {
  const config = loadConfig({ env: {}, overrides: { server: { host: '127.0.0.1', port: 0, transport: 'uws' }, models: { video: { enabled: false } }, plugins: [], log: { level: 'silent' }, storage: { databaseUrl: 'none' } } });
  const server = await createEmoServer({ config, logger: pino({ level: 'silent' }) });
  try {
    const port = await server.listen();
    const clip = join(RAVDESS_DIR, 'speech-16k', 'Actor_01', '03-01-05-02-01-01-01.wav');
    const wav = readWavS16(clip);
    const aus = readAuCsv(join(RAVDESS_DIR, 'openface', 'clip-mean-aus.csv'), { mediaFile: clip, durationS: wav.samples.length / 16000 }).frames;
    const c = await EmoStreamClient.connect({ url: `ws://127.0.0.1:${port}` });
    const available = new Set(c.welcome.models.filter((m) => m.available).map((m) => m.modality));
    const chunks = Array.from({ length: Math.ceil(wav.samples.length / 320) }, (_, k) => wav.samples.subarray(k * 320, (k + 1) * 320));
    const { results } = await replay(c, chunks, { realtime: false, aus });
    assert.ok(results.length >= 7, `${results.length} results for a ${(wav.samples.length / 16000).toFixed(1)} s clip`);
    const full = results.filter((r) => r.windowEndUs - r.windowStartUs >= 1_000_000);
    for (const r of full) {
      // Protocol 1.1: a window the voice-activity gate finds without enough speech has none (voice.active false).
      assert.equal(r.speech !== null, available.has('speech') && r.voice?.active !== false, `speech posterior present iff the speech model is available and the window has speech (hop ${r.hop})`);
      assert.equal(r.face !== null, available.has('face'), `face posterior present iff the face model is available (hop ${r.hop})`);
      for (const p of [r.speech, r.face, r.fused]) {
        if (!p) continue;
        assert.equal(p.probs.length, 8);
        assert.ok(Math.abs(p.probs.reduce((a, b) => a + b, 0) - 1) < 1e-3);
      }
      if (available.has('speech') || available.has('face')) assert.ok(r.fused);
    }
    assert.equal(results[results.length - 1].droppedWindows, 0);
    if (available.has('speech')) assert.ok(full.filter((r) => r.speech).length >= full.length / 2, 'most windows of a spoken clip carry a speech posterior');
  } finally {
    await server.close();
  }
});
