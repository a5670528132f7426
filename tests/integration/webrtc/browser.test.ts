import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createEmoServer } from '../../../src/server/app.js';
import { CHROMIUM, hasChromium, launchChromium, makeFakeMedia, percentile, runPage, type PageRun } from '../../browser/harness.js';

/**
 * The whole path in a real browser: Debian's headless Chromium with fake camera and microphone (a RAVDESS clip and
 * a MEAD face clip from ../shared, synthetic media otherwise) opens the web client served by the server, clicks
 * Start, streams over WebRTC (WHIP + werift), and the page shows results, the chart and its latency. The same page
 * then streams over the WebSocket fallback, and the speech posteriors of both paths are compared.
 */

/**
 * Largest allowed difference between the session-mean speech posteriors of the two transports (per class), by the
 * fake microphone's source (Opus coding, and the two sessions meeting the looping microphone at different phases).
 * RAVDESS clip (with ../shared, as in CI): 0.07-0.10 over six runs with the CNN-only speech model, 0.10-0.12 over
 * three with the current one. Committed CREMA-D fixture (without ../shared): the current model, whose functionals are
 * z-scored per speaker and include voice-quality descriptors, moves more on this out-of-corpus speaker through Opus:
 * 0.18-0.22 over four runs (happy 0.24-0.27 over WebRTC against 0.45 over WebSocket); the earlier model stayed
 * under 0.15. A real codec-robustness gap of the current model on unseen corpora, recorded in the model card.
 * Since voice activity gates the speech posterior (protocol 1.1), each session's mean is over its speech windows only,
 * and the two sessions meet the looping clip's pauses at different phases (10 vs 13 speech windows in one run): RAVDESS
 * 0.079, 0.137 and 0.154 over three full runs in session 8, so 0.2.
 */
export const SPEECH_AGREEMENT_TOLERANCE: Record<'ravdess' | 'fixture', number> = { ravdess: 0.2, fixture: 0.25 };

const SECONDS = 7;

async function chartInkPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.getElementById('chart') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    // Saturated pixels only: the grid and labels are grey, the probability lines are coloured.
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) ink++;
    return ink;
  });
}

function meanSpeech(run: PageRun): number[] | null {
  const rows = run.results.map((r) => r.speech?.probs).filter((p): p is number[] => Array.isArray(p));
  if (rows.length === 0) return null;
  return rows[0].map((_, k) => rows.reduce((a, p) => a + p[k], 0) / rows.length);
}

test('browser: camera + microphone over WebRTC give live results, a chart and latency; the WebSocket fallback agrees', {
  skip: hasChromium() ? false : `needs Chromium at ${CHROMIUM} (apt-get install chromium)`,
  timeout: 120_000,
}, async (t) => {
  const server = await createEmoServer({ overrides: { server: { port: 0, host: '127.0.0.1' }, log: { level: 'error' }, storage: { databaseUrl: 'none' } } });
  const port = await server.listen();
  const base = `http://127.0.0.1:${port}`;
  const media = await makeFakeMedia();
  t.diagnostic(`fake microphone: ${media.audioSource}; fake camera: ${media.videoSource}`);
  const ctx = await launchChromium(media);
  try {
    let followed = 0;
    const shot = join(tmpdir(), `emostream-webrtc-browser-live-${process.pid}-${Date.now()}.png`);
    let ink = 0;
    const rtc = await runPage(ctx, base, 'transport=webrtc', SECONDS, {
      // A second tab follows the session through /v1/subscribe, as with WebSocket sessions.
      onStarted: async (page) => {
        const id = await page.evaluate(() => (window as unknown as { emostream: { sessionId: string } }).emostream.sessionId);
        const follower = await ctx.newPage();
        await follower.goto(`${base}/?follow=${encodeURIComponent(id)}`);
        await follower.waitForFunction(() => (window as unknown as { emostream: { results: unknown[] } }).emostream.results.length >= 2, undefined, { timeout: 30_000 });
        followed = await follower.evaluate(() => (window as unknown as { emostream: { results: unknown[] } }).emostream.results.length);
        await follower.close();
      },
      beforeStop: async (page) => {
        await page.locator('#live').screenshot({ path: shot });
        ink = await chartInkPixels(page);
      },
    });
    t.diagnostic(`screenshot: ${shot}`);
    assert.equal(rtc.transport, 'webrtc', `page fell back or failed: ${JSON.stringify(rtc.errors)}`);
    assert.deepEqual(rtc.errors, []);
    assert.ok(rtc.results.length >= 8, `${rtc.results.length} results in ${SECONDS} s`);
    assert.ok(rtc.results.every((r) => r.fused === null || r.fused.probs.length === 8));
    assert.ok(rtc.results.some((r) => r.fused !== null), 'some result carries a fused posterior');
    assert.ok(followed >= 2, 'the subscriber tab received results');
    assert.ok(ink > 200, `chart has ${ink} coloured pixels (screenshot in ${shot})`);
    // Audio arrived over Opus with no loss on loopback, and video was depacketised, decoded and delivered.
    const audio = rtc.stats?.audio;
    assert.ok(audio && audio.received > 40 * (SECONDS - 2), `audio packets ${audio?.received}`);
    const video = rtc.stats?.video;
    assert.ok(video && video.framesDelivered > 2 * (SECONDS - 2), `video frames delivered ${video?.framesDelivered} (${video?.codec})`);
    const lat = rtc.latencies.map((l) => l.ms);
    assert.ok(lat.length >= 6, 'the page measured its latency');
    // A sanity bound, not a latency target (those live in bench/): on a loaded machine Chromium's fake devices fall
    // behind the wall clock and the rtcp-sr capture estimate drifts both ways (-2.0 to +2.2 s seen with 2 cores at load
    // 18-25, where > -50 ms failed); a unit or clock mix-up would be off by far more.
    assert.ok(lat.every((ms) => Number.isFinite(ms) && Math.abs(ms) < 5000), `latencies ${lat.map((x) => x.toFixed(0)).join(' ')}`);
    t.diagnostic(`webrtc latencies (shown/received ms): ${rtc.latencies.map((l) => `${l.ms.toFixed(0)}/${(l as { receivedMs?: number }).receivedMs?.toFixed(0)}`).join(" ")}`);
    t.diagnostic(`webrtc: ${rtc.results.length} results, latency p50 ${percentile(lat, 0.5).toFixed(0)} ms p95 ${percentile(lat, 0.95).toFixed(0)} ms (bases ${[...new Set(rtc.latencies.map((l) => l.basis))].join(',')})`);

    // H264 from the browser's encoder instead of VP8 (setCodecPreferences), through depacketisation and ffmpeg.
    const h264 = await runPage(ctx, base, 'transport=webrtc&codec=h264', 4);
    assert.equal(h264.transport, 'webrtc', JSON.stringify(h264.errors));
    assert.equal(h264.stats?.video?.codec, 'h264');
    assert.ok((h264.stats?.video?.framesDelivered ?? 0) > 5, `H264 frames delivered ${h264.stats?.video?.framesDelivered}`);
    assert.ok(h264.results.length >= 3);

    const ws = await runPage(ctx, base, 'transport=ws', SECONDS);
    assert.equal(ws.transport, 'websocket');
    assert.deepEqual(ws.errors, []);
    assert.ok(ws.results.length >= 8, `${ws.results.length} results over WebSocket`);

    // "WebRTC by default, WebSocket fallback": against a server without the WebRTC plugin, WHIP answers 404 and the
    // page carries on over WebSocket by itself.
    const plain = await createEmoServer({ overrides: { server: { port: 0, host: '127.0.0.1' }, log: { level: 'error' }, plugins: [], storage: { databaseUrl: 'none' } } });
    try {
      const plainPort = await plain.listen();
      const fallback = await runPage(ctx, `http://127.0.0.1:${plainPort}`, 'transport=auto&camera=none', 3);
      assert.equal(fallback.transport, 'websocket', JSON.stringify(fallback.errors));
      assert.ok(fallback.results.length >= 3, `${fallback.results.length} results after falling back`);
    } finally {
      await plain.close();
    }

    const speechAvailable = server.models.summary().some((m) => m.modality === 'speech' && m.available);
    await t.test('speech posteriors over WebRTC agree with the WebSocket path on the same clip', {
      skip: speechAvailable ? false : 'no trained speech model in models/speech (speech posteriors are null on both paths)',
    }, () => {
      const a = meanSpeech(rtc);
      const b = meanSpeech(ws);
      assert.ok(a && b, 'both paths produced speech posteriors');
      const diff = Math.max(...a.map((x, k) => Math.abs(x - b[k])));
      const tolerance = SPEECH_AGREEMENT_TOLERANCE[media.audioSource.startsWith('ravdess:') ? 'ravdess' : 'fixture'];
      t.diagnostic(`session-mean speech posterior, max |webrtc - websocket| = ${diff.toFixed(3)} (tolerance ${tolerance} for ${media.audioSource}); webrtc ${a.map((x) => x.toFixed(2)).join(' ')} (${rtc.results.filter((r) => r.speech).length} windows), websocket ${b.map((x) => x.toFixed(2)).join(' ')} (${ws.results.filter((r) => r.speech).length} windows)`);
      assert.ok(diff <= tolerance, `mean speech posteriors differ by ${diff.toFixed(3)}: ${a.map((x) => x.toFixed(2))} vs ${b.map((x) => x.toFixed(2))}`);
    });
  } finally {
    await ctx.close();
    await server.close();
    media.cleanup();
  }
});
