import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmoStreamClient, EmoSubscriber, type EmotionResult, type ServerMessage } from '../../../clients/node/index.js';
import { replay } from '../../../clients/node/replay.js';
import { startServer } from '../../../src/cluster/processes.js';
import { loadConfig } from '../../../src/server/config.js';
import { readWavS16 } from '../../../bench/wav.js';

const WAV = readWavS16('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav');
const CHUNKS = Array.from({ length: Math.ceil(WAV.samples.length / 320) }, (_, k) => WAV.samples.subarray(k * 320, (k + 1) * 320));

/**
 * Two server processes writing one SQLite file (each its own storage thread and queue): every session of either is
 * stored whole, readable from either, and a late joiner landing on either process gets the stored results and then
 * the live ones without a gap or a duplicate.
 */
test('two server processes share the SQLite history; late joiners on either process', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emo-history-loops-'));
  const config = loadConfig({
    env: {},
    overrides: {
      server: { host: '127.0.0.1', port: 0, processes: 2 }, streaming: { featureWorkers: 0 },
      models: { video: { enabled: false } }, log: { level: 'silent' },
      storage: { databaseUrl: `sqlite:${join(dir, 'h.sqlite')}`, flushIntervalMs: 100 },
    },
  });
  const s = await startServer(config);
  const url = `ws://127.0.0.1:${s.port}`;
  const http = url.replace('ws://', 'http://');
  try {
    const sessions = 8;
    const clients = await Promise.all(Array.from({ length: sessions }, () => EmoStreamClient.connect({ url, client: 'loops' })));
    const onFirst = clients.filter((c) => s.first.sessions.get(c.sessionId)).length;
    assert.ok(onFirst > 0 && onFirst < sessions, `${onFirst} of ${sessions} sessions on the first process`);
    const runs = clients.map((c) => replay(c, CHUNKS, { realtime: true }));
    // Join once every session has results stored (more follow while it streams): a fixed 1.5 s wait failed on a busy
    // machine (load 12) where no session had its first result yet, on threads as on processes.
    for (const c of clients) {
      for (let k = 0; k < 600; k++) {
        const res = await fetch(`${http}/v1/sessions/${c.sessionId}/timeline`);
        if (res.status === 200 && ((await res.json()) as { results: unknown[] }).results.length > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const seen: ServerMessage[][] = clients.map(() => []);
    const readers = clients.map((c, i) => (async () => {
      const sub = await EmoSubscriber.connect(url, c.sessionId, 5000, { since: 0 });
      for await (const m of sub.messages()) seen[i].push(m);
    })());
    const done = await Promise.all(runs);
    await Promise.all(readers);
    for (let i = 0; i < sessions; i++) {
      const results = done[i].results;
      assert.ok(results.length >= 4, `session ${i}: ${results.length} results`);
      const first = seen[i][0];
      assert.ok(first.type === 'subscribed' && first.replay && first.replay.results >= 1, `session ${i}: ${JSON.stringify(first)}`);
      const got = seen[i].filter((m): m is EmotionResult => m.type === 'emotion');
      assert.deepEqual(got.map((r) => r.hop), results.map((r) => r.hop), `late joiner ${i}: every hop once`);
      assert.deepEqual(got, results);
    }
    // Stored whole, whichever process answers.
    for (const [i, c] of clients.entries()) {
      let stored: EmotionResult[] = [];
      for (let k = 0; k < 100; k++) {
        const res = await fetch(`${http}/v1/sessions/${c.sessionId}/timeline`);
        if (res.status === 200) stored = ((await res.json()) as { results: EmotionResult[] }).results;
        if (stored.length === done[i].results.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(stored, done[i].results, `session ${i} stored`);
    }
    const list = (await (await fetch(`${http}/v1/sessions?limit=100`)).json()) as { sessions: { id: string; endReason: string | null }[] };
    assert.deepEqual(new Set(list.sessions.map((x) => x.id)), new Set(clients.map((c) => c.sessionId)));
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
