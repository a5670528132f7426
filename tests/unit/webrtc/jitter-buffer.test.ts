import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer, type JitterOutput } from '../../../src/webrtc/jitter-buffer.js';

const opus = () => new JitterBuffer<number>({ clockRate: 48000, latencyMs: 60, maxPackets: 8 });
const seqs = (out: JitterOutput<number>[]) => out.map((o) => (o.kind === 'packet' ? o.item : `lost${o.count}`));

test('in-order packets pass straight through', () => {
  const jb = opus();
  const out = [0, 1, 2, 3].flatMap((i) => jb.push(100 + i, i * 960, i));
  assert.deepEqual(seqs(out), [0, 1, 2, 3]);
  assert.equal(jb.stats().lost, 0);
  assert.equal(jb.stats().depth, 0);
});

test('reordered packets come out in order', () => {
  const jb = opus();
  const out = [0, 2, 1, 4, 3, 5].flatMap((i) => jb.push(i, i * 960, i));
  assert.deepEqual(seqs(out), [0, 1, 2, 3, 4, 5]);
  assert.equal(jb.stats().lost, 0);
  assert.equal(jb.stats().maxDepth, 1);
});

test('a missing packet is declared lost once 60 ms of later audio is buffered, and counted', () => {
  const jb = opus();
  const out: JitterOutput<number>[] = [];
  for (const i of [0, 1, 3, 4, 5]) out.push(...jb.push(i, i * 960, i));
  assert.deepEqual(seqs(out), [0, 1], 'packet 3..5 wait for 2 (5-3 = 40 ms < 60 ms)');
  out.push(...jb.push(6, 6 * 960, 6));
  assert.deepEqual(seqs(out), [0, 1, 'lost1', 3, 4, 5, 6]);
  assert.equal(jb.stats().lost, 1);
  // The lost packet arriving afterwards is late, not delivered twice.
  assert.deepEqual(jb.push(2, 2 * 960, 2), []);
  assert.equal(jb.stats().late, 1);
});

test('duplicates are dropped and counted', () => {
  const jb = opus();
  jb.push(0, 0, 0);
  jb.push(2, 1920, 2);
  assert.deepEqual(jb.push(2, 1920, 2), []);
  assert.deepEqual(jb.push(0, 0, 0), []);
  const st = jb.stats();
  assert.equal(st.duplicates, 1);
  assert.equal(st.late, 1);
});

test('the buffer never holds more than maxPackets', () => {
  const jb = new JitterBuffer<number>({ clockRate: 48000, latencyMs: 10_000, maxPackets: 4 });
  jb.push(0, 0, 0);
  const out: JitterOutput<number>[] = [];
  for (let i = 2; i < 20; i++) out.push(...jb.push(i, i * 960, i));
  assert.ok(jb.stats().maxDepth <= 4, `maxDepth ${jb.stats().maxDepth}`);
  assert.equal(jb.stats().lost, 1);
  assert.ok(jb.stats().depth <= 4);
});

test('sequence numbers wrap around 65535 -> 0', () => {
  const jb = opus();
  const order = [65533, 65534, 65535, 0, 1];
  const out = order.flatMap((s, i) => jb.push(s, (i * 960) >>> 0, i));
  assert.deepEqual(seqs(out), [0, 1, 2, 3, 4]);
  assert.equal(jb.stats().lost, 0);
});

test('a huge sequence jump re-anchors instead of waiting forever', () => {
  const jb = opus();
  jb.push(10, 0, 0);
  const out = jb.push(30_000, 960, 1);
  assert.deepEqual(seqs(out), [1]);
  assert.equal(jb.stats().resets, 1);
});

test('flush emits buffered packets and declares the holes', () => {
  const jb = opus();
  jb.push(0, 0, 0);
  jb.push(2, 1920, 2);
  assert.deepEqual(seqs(jb.flush()), ['lost1', 2]);
});
