import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { EmoStreamClient } from '../../../clients/node/index.js';
import { replay } from '../../../clients/node/replay.js';
import { createEmoServer } from '../../../src/server/app.js';
import { loadConfig } from '../../../src/server/config.js';
import { readWavS16 } from '../../../bench/wav.js';
import type { EmotionResult } from '../../../src/protocol/v1/messages.js';

/** Streams the committed CREMA-D clip through a real server with the shipped speech model; returns its results. */
async function run(featureWorkers: number): Promise<{ results: EmotionResult[]; reported: number }> {
  const config = loadConfig({
    env: {},
    overrides: {
      server: { host: '127.0.0.1', port: 0, transport: 'uws' }, streaming: { featureWorkers },
      models: { video: { enabled: false }, face: { enabled: false } }, plugins: [], log: { level: 'silent' }, storage: { databaseUrl: 'none' },
    },
  });
  const server = await createEmoServer({ config, logger: pino({ level: 'silent' }) });
  try {
    const port = await server.listen();
    const info = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { featureWorkers: number };
    const wav = readWavS16('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav');
    const chunks = Array.from({ length: Math.ceil(wav.samples.length / 320) }, (_, k) => wav.samples.subarray(k * 320, (k + 1) * 320));
    const c = await EmoStreamClient.connect({ url: `ws://127.0.0.1:${port}` });
    const { results } = await replay(c, chunks, { realtime: false });
    return { results, reported: info.featureWorkers };
  } finally {
    await server.close();
  }
}

test('speech front ends in a feature worker give the same results as on the event loop (shipped speech model)', async () => {
  const inThread = await run(0);
  const offloaded = await run(1);
  assert.equal(inThread.reported, 0);
  assert.equal(offloaded.reported, 1);
  assert.ok(inThread.results.length >= 4, `${inThread.results.length} results`);
  assert.equal(offloaded.results.length, inThread.results.length);
  offloaded.results.forEach((r, i) => {
    const ref = inThread.results[i];
    assert.equal(r.hop, ref.hop);
    assert.deepEqual([r.windowStartUs, r.windowEndUs], [ref.windowStartUs, ref.windowEndUs]);
    // The clip's first 0.5 s is mostly room tone: the voice-activity gate may withhold that hop's posterior (1.1).
    assert.deepEqual(r.voice, ref.voice, `voice at hop ${r.hop}`);
    if (ref.voice?.active !== false) assert.ok(ref.speech, `speech posterior at hop ${ref.hop}`);
    assert.deepEqual(r.speech, ref.speech, `speech posterior at hop ${r.hop}`);
    assert.deepEqual(r.fused, ref.fused);
    assert.ok(r.speech ? r.latency.speechMs !== null && r.latency.speechMs >= 0 : r.latency.speechMs === null);
  });
  assert.equal(offloaded.results.at(-1)!.droppedWindows, 0);
  assert.ok(inThread.results.filter((r) => r.speech !== null).length >= 4, 'the spoken hops carry speech posteriors');
});
