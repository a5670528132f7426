import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeWav } from '../../../src/features/wav.js';
import { SileroVad } from '../../../src/models/speech/vad.js';

const speech = () => decodeWav(readFileSync('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav')).samples;

/** Speech ratios of consecutive 0.5 s hops of one stream. */
async function hopRatios(vad: SileroVad, x: Float32Array): Promise<number[]> {
  const s = vad.createStream();
  const out: number[] = [];
  for (let end = 8000; end <= x.length; end += 8000) {
    s.push(x.subarray(end - 8000, end));
    out.push(await s.speechRatio(end - 8000, end));
  }
  s.close();
  return out;
}

test('voice activity: streams waiting together run as one batch, each with exactly its own batch-1 result and state', async () => {
  const vad = await SileroVad.load();
  try {
    const clip = speech();
    // Eight sessions: the clip at different offsets and gains, and two of silence.
    const signals = Array.from({ length: 8 }, (_, i) => {
      if (i >= 6) return new Float32Array(clip.length);
      const gain = 0.4 + 0.1 * i;
      return Float32Array.from(clip, (_, k) => gain * clip[(k + i * 3000) % clip.length]);
    });
    const alone: number[][] = [];
    for (const x of signals) alone.push(await hopRatios(vad, x));
    const callsAlone = vad.calls;
    const chunksAlone = vad.chunks;
    assert.ok(chunksAlone / callsAlone >= 4, `one stream at a time: a hop's 5-6 chunks share a call (${(chunksAlone / callsAlone).toFixed(1)} per call)`);

    const together = await Promise.all(signals.map((x) => hopRatios(vad, x)));
    assert.deepEqual(together, alone, 'batched decisions equal the one-at-a-time ones, hop for hop');
    const calls = vad.calls - callsAlone;
    const chunks = vad.chunks - chunksAlone;
    assert.equal(chunks, chunksAlone, 'the same chunks were heard');
    assert.ok(calls <= callsAlone / 4, `8 streams at once: ${calls} calls, against ${callsAlone} one stream at a time`);
    assert.ok(together[0].some((r) => r > 0.5), 'the speech clip is heard as speech');
    assert.ok(together[7].every((r) => r === 0), 'silence is not');
  } finally {
    await vad.dispose();
  }
});
