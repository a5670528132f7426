import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../helpers/until.js';
import { readFileSync } from 'node:fs';
import { decodeWav } from '../../../src/features/wav.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { loadSpeechModel } from '../../../src/models/speech/index.js';
import { FeatureOffload } from '../../../src/compose/feature-offload.js';
import type { VoicedStream } from '../../../src/models/speech/voiced-stream.js';

/** The committed CREMA-D clip (tests/fixtures/speech), 16 kHz mono. */
function clip(): Float32Array {
  const wav = decodeWav(readFileSync('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav'));
  assert.equal(wav.sampleRate, 16000);
  return wav.samples;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('feature worker streams build exactly the windows of the in-thread stream (odd chunks, two sessions, two workers)', async () => {
  const model = await loadSpeechModel({ runnerFactory: (p) => createInProcessRunner(p) });
  assert.ok(model.status().available, `shipped speech model: ${model.status().error}`);
  const pool = await FeatureOffload.start({ workers: 2 });
  try {
    const audio = clip();
    const scaled = audio.map((x) => x * 0.5);
    const sessions = [audio, scaled].map((signal) => ({ signal, local: model.createStream(), remote: pool.open((m) => assert.fail(m)) }));
    const sizes = [1, 159, 320, 401, 7999, 3, 320, 16000];
    const pending: { local: unknown; localRatio: Promise<number>; remote: Promise<unknown> }[] = [];
    for (const s of sessions) {
      let at = 0;
      for (let i = 0; at < s.signal.length; i++) {
        const chunk = s.signal.subarray(at, at + sizes[i % sizes.length]);
        s.local.push(chunk);
        s.remote.push(chunk);
        at += chunk.length;
        // A window every ~0.5 s of audio, of the full 3 s or of what exists so far.
        if (Math.floor(at / 8000) !== Math.floor((at - chunk.length) / 8000)) {
          const local = s.local as typeof s.local & VoicedStream;
          pending.push({ local: local.window(at, Math.min(at, 48000)), localRatio: local.speechRatio(at - Math.min(at, 48000), at), remote: s.remote.window(at, Math.min(at, 48000)) });
        }
      }
    }
    assert.ok(pending.length >= 6, `${pending.length} windows compared`);
    const ratios: number[] = [];
    for (const p of pending) {
      // The worker's window also carries its voice-activity ratio (the same Silero stream as in-thread).
      const { speechRatio, ...window } = (await p.remote) as { speechRatio?: number };
      assert.deepEqual(window, p.local);
      assert.equal(speechRatio, await p.localRatio);
      ratios.push(speechRatio!);
    }
    assert.ok(ratios.some((r) => r >= 0.3), `the speech clip has speech windows: ${ratios.join(' ')}`);
    assert.equal(pool.stats().streams, 2);
    assert.equal(pool.stats().workers, 2);
    for (const s of sessions) s.remote.close();
    await until(() => pool.stats().streams === 0, 'the closed streams released');
  } finally {
    await pool.close();
    await model.dispose();
  }
});

test('a worker that falls too far behind stops the stream visibly (bounded backlog): windows are null, not wrong', async () => {
  const pool = await FeatureOffload.start({ workers: 1, maxBacklogSamples: 4000, backlogSamplesPerStream: 1000 });
  try {
    const errors: string[] = [];
    const s = pool.open((m) => errors.push(m));
    s.push(new Float32Array(3000).fill(0.1));
    s.push(new Float32Array(3000).fill(0.1)); // 6000 queued > 4000: dropped, stream broken
    assert.equal(errors.length, 1);
    assert.match(errors[0], /over 4000 samples behind/);
    assert.equal(await s.window(3000, 3000), null);
    assert.equal(pool.stats().brokenStreams, 1);
    // Once the worker has caught up, other sessions stream normally.
    await until(() => pool.stats().backlogSamples === 0, 'the worker caught up');
    assert.equal(pool.stats().backlogSamples, 0);
    const ok = pool.open();
    ok.push(new Float32Array(3200).fill(0.1));
    assert.ok(await ok.window(3200, 3200));
  } finally {
    await pool.close();
  }
});

test('the backlog limit grows with the streams a worker serves (a start-up stall does not break every session)', async () => {
  const pool = await FeatureOffload.start({ workers: 1, maxBacklogSamples: 4000, backlogSamplesPerStream: 1000 });
  try {
    const errors: string[] = [];
    const streams = Array.from({ length: 8 }, () => pool.open((m) => errors.push(m)));
    // 8 streams x 1000 = 8000 allowed: 7 x 1000 samples queued at once pass where 4000 alone would not.
    for (const s of streams.slice(0, 7)) s.push(new Float32Array(1000).fill(0.1));
    assert.deepEqual(errors, []);
    streams[7].push(new Float32Array(1500).fill(0.1)); // 8500 > 8000: this one stops
    assert.equal(errors.length, 1);
    assert.match(errors[0], /over 8000 samples behind/);
  } finally {
    await pool.close();
  }
});

test('a crashed feature worker: its pending windows resolve null, it is replaced, new sessions work', async () => {
  const pool = await FeatureOffload.start({ workers: 1 });
  try {
    const s = pool.open();
    s.push(new Float32Array(8000).fill(0.05));
    const before = s.window(8000, 8000);
    await pool.killWorker(0);
    assert.equal(await before, null);
    assert.equal(await s.window(8000, 8000), null);
    await until(() => pool.stats().respawns > 0, 'the replacement worker');
    assert.equal(pool.stats().respawns, 1);
    // The replacement loads the model; wait for it, then a new session gets real windows.
    let w: unknown = null;
    for (let i = 0; i < 200 && w === null; i++) {
      await sleep(50);
      const fresh = pool.open();
      fresh.push(new Float32Array(8000).fill(0.05));
      w = await fresh.window(8000, 8000);
    }
    assert.ok(w && typeof w === 'object' && (w as { kind: string }).kind === 'features');
  } finally {
    await pool.close();
  }
});

test('feature workers refuse to start without a speech model, with the reason', async () => {
  await assert.rejects(FeatureOffload.start({ workers: 1, speechDir: '/nonexistent/speech-model' }), /speech model config not found: \/nonexistent\/speech-model/);
  await assert.rejects(FeatureOffload.start({ workers: 0 }), /feature workers must be >= 1/);
});

test('after one of two feature workers dies, new sessions go to the live one before the replacement is up', async () => {
  const pool = await FeatureOffload.start({ workers: 2 });
  try {
    const first = pool.open(); // worker 0
    pool.open(); // worker 1: both now hold one session, so a tie would pick worker 0
    await pool.killWorker(0);
    // The session on worker 0 broke; worker 1 is alive, so a session opened now must get real windows at once.
    await until(() => pool.stats().respawns > 0, 'the replacement worker');
    assert.equal(pool.stats().respawns, 1);
    assert.equal(await first.window(8000, 8000), null);
    const fresh = pool.open();
    fresh.push(new Float32Array(8000).fill(0.05));
    const w = await fresh.window(8000, 8000);
    assert.ok(w && typeof w === 'object' && (w as { kind: string }).kind === 'features');
  } finally {
    await pool.close();
  }
});
