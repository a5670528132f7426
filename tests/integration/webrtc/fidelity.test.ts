import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MEL_CONFIG, type MelConfig } from '../../../src/features/mel-config.js';
import { logMelFrames } from '../../../src/features/mel.js';
import { readWav } from '../../../src/features/wav.js';
import { createMonoResampler } from '../../../src/streaming/resampler.js';
import { hasShared, SHARED_DIR } from '../../../src/training/ravdess.js';
import { to48k, WhipClient } from '../../../clients/node/whip-client.js';
import { startHarness } from './webrtc-harness.js';

/**
 * What the speech model hears over WebRTC against what it hears over WebSocket: the same clip is sent over a real
 * peer connection as Opus (48 kHz), decoded by the ingest, resampled to 16 kHz by the server's own resampler and
 * turned into the speech front end's log-mel frames; they are compared with the frames of the clip itself, which is
 * what a WebSocket client sending the 16 kHz file delivers. A RAVDESS clip from ../shared when present, otherwise a
 * synthetic harmonic signal (plumbing only).
 */

/**
 * Mean over speech frames of the Pearson correlation between the two log-mel frames (40 bands), and the mean absolute
 * log-mel difference over the bands where the clip has energy.
 */
function frameCorrelation(a: Float32Array, b: Float32Array, frames: number, cfg: MelConfig): { corr: number; meanAbsNats: number; used: number } {
  const B = cfg.melBands;
  let sum = 0;
  let abs = 0;
  let absBands = 0;
  let used = 0;
  for (let f = 0; f < frames; f++) {
    let ma = 0;
    let mb = 0;
    for (let k = 0; k < B; k++) { ma += a[f * B + k]; mb += b[f * B + k]; }
    ma /= B;
    mb /= B;
    if (ma < -14) continue; // silence between words: its log-mel is mostly the floor, not speech
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let k = 0; k < B; k++) {
      const x = a[f * B + k] - ma;
      const y = b[f * B + k] - mb;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
      // Level differences only where the clip has energy: below that both are codec or digital noise floors.
      if (a[f * B + k] > -15) {
        abs += Math.abs(a[f * B + k] - b[f * B + k]);
        absBands++;
      }
    }
    sum += sab / Math.sqrt(saa * sbb + 1e-12);
    used++;
  }
  return { corr: sum / Math.max(1, used), meanAbsNats: abs / Math.max(1, absBands), used };
}

test('speech front end over WebRTC (Opus, 48 kHz, resampled) matches the clip itself', async (t) => {
  const clip = join(SHARED_DIR, 'ravdess', 'speech-16k', 'Actor_01', '03-01-05-02-01-01-01.wav');
  let pcm16k: Float32Array;
  if (hasShared() && existsSync(clip)) {
    pcm16k = readWav(clip).samples;
    t.diagnostic('clip: RAVDESS 03-01-05-02-01-01-01.wav');
  } else {
    pcm16k = new Float32Array(16000 * 2).map((_, i) => {
      const s = i / 16000;
      const f0 = 130 + 40 * Math.sin(2 * Math.PI * 0.8 * s);
      let v = 0;
      for (let h = 1; h <= 12; h++) v += Math.sin(2 * Math.PI * f0 * h * s) / h;
      return 0.15 * v * (0.55 + 0.45 * Math.sin(2 * Math.PI * 2.5 * s));
    });
    t.diagnostic('clip: synthetic harmonic signal (../shared absent)');
  }
  const h = await startHarness();
  const client = await WhipClient.connect({ url: h.url });
  try {
    const handle = h.sessions.opened.find((s) => s.id === client.sessionId)!;
    const pcm48k = await to48k(pcm16k, 16000);
    await client.streamPcm(pcm48k, { speed: 4 });
    await client.waitFor(() => handle.samples >= pcm48k.length - 960 * 2, 5000, 'decoded audio');
    const received48k = new Float32Array(handle.samples);
    let o = 0;
    for (const c of handle.pcm) { received48k.set(c.samples, o); o += c.samples.length; }
    const resampler = await createMonoResampler(48000);
    const received16k = resampler.process(received48k);
    resampler.dispose();

    // Opus and the resamplers delay the signal by a few ms: find the sample lag (0..20 ms) by cross-correlation.
    let lag = 0;
    let bestXc = -Infinity;
    for (let d = 0; d <= 320; d++) {
      let xc = 0;
      for (let i = 0; i + d < received16k.length && i < pcm16k.length; i += 2) xc += pcm16k[i] * received16k[i + d];
      if (xc > bestXc) { bestXc = xc; lag = d; }
    }
    const cfg = DEFAULT_MEL_CONFIG;
    const ref = logMelFrames(pcm16k, cfg);
    const got = logMelFrames(received16k.subarray(lag), cfg);
    const frames = Math.min(ref.length, got.length) / cfg.melBands;
    const best = { lag, ...frameCorrelation(ref, got, frames, cfg) };
    // The measure discriminates: the same audio half a second off gives a clearly lower score.
    const off = frameCorrelation(ref, got.subarray(50 * cfg.melBands), frames - 50, cfg);
    t.diagnostic(`misaligned by 0.5 s: correlation ${off.corr.toFixed(3)}, mean |difference| ${off.meanAbsNats.toFixed(3)} nats`);
    t.diagnostic(`log-mel frame correlation ${best.corr.toFixed(3)}, mean |difference| ${best.meanAbsNats.toFixed(3)} nats over ${best.used} speech frames (lag ${best.lag} samples)`);
    assert.ok(best.used > 50, 'enough speech frames compared');
    // Measured on the RAVDESS clip: 0.86 and 0.54 nats (~2.3 dB; Opus reshapes the upper bands); misaligned 0.26 and
    // 5.3 nats. The bounds leave room for encoder differences, not for a broken path.
    assert.ok(best.corr > 0.75, `log-mel correlation ${best.corr}`);
    assert.ok(best.meanAbsNats < 1.0, `mean log-mel difference ${best.meanAbsNats} nats`);
    assert.ok(off.corr < best.corr - 0.2, 'misalignment is detected by the measure');
  } finally {
    await client.close();
    await h.close();
  }
});
