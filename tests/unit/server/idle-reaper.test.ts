import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleReaper } from '../../../src/server/idle-reaper.js';
import { MediaAdmission } from '../../../src/server/media-admission.js';
import type { ProtocolError } from '../../../src/protocol/v1/errors.js';
import type { StreamSession } from '../../../src/server/session.js';

test('IdleReaper ends open sessions with no accepted media for the timeout, with EMO_ERR_IDLE (fatal, close 4034)', () => {
  let now = 0;
  const limits = { maxPtsJumpMs: 10_000, maxRealtimeFactor: 4, realtimeBurstMs: 30_000 };
  const failed: { id: string; err: ProtocolError }[] = [];
  const fake = (id: string, open = true) => {
    const admission = new MediaAdmission(limits, () => now);
    const s = { id, isOpen: open, admission, fail: (err: ProtocolError) => { failed.push({ id, err }); s.isOpen = false; return false as const; } };
    return s;
  };
  const helloOnly = fake('hello-only');
  const streaming = fake('streaming');
  const ending = fake('ending', false);
  const sessions = [helloOnly, streaming, ending] as unknown as StreamSession[];
  const reaper = new IdleReaper(1000, () => sessions, undefined, () => now);
  for (let t = 0; t <= 1500; t += 100) {
    now = t;
    const p = streaming.admission.admit('au', t * 1000, 0)!;
    streaming.admission.commit('au', p, 0);
    reaper.sweep();
  }
  assert.deepEqual(failed.map((f) => f.id), ['hello-only']);
  assert.equal(failed[0].err.code, 'EMO_ERR_IDLE');
  assert.equal(failed[0].err.fatal, true);
  assert.equal(failed[0].err.closeCode, 4034);
  assert.match(failed[0].err.message, /no media accepted for 1100 ms/);
  now += 1001;
  assert.equal(reaper.sweep(), 1, 'a streaming session that stops is reaped too');
  assert.equal(reaper.reapedCount, 2);
  assert.equal(ending.isOpen, false, 'a session already ending is left to finish');
});
