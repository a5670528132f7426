import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { EmoStreamClient, type EmotionResult } from '../../../clients/node/index.js';
import { CHROMIUM, hasChromium } from '../../browser/harness.js';
import { startTestServer } from '../../helpers/server.js';
import { until } from '../../helpers/until.js';

/**
 * The web page in real Chromium, following sessions that the Node client streams (tiny real models): the bars are
 * as wide as their values, the current label is a live region, "no voice" replaces stale voice scores, the share
 * link follows the session, and nothing the page loads is missing (no favicon 404).
 */

const WEB_DIR = fileURLToPath(new URL('../../../clients/web/', import.meta.url));
const tone = (n: number, offset = 0) => Int16Array.from({ length: n }, (_, i) => Math.round(6000 * Math.sin((offset + i) / 7)));

interface BarReading { set: string; label: string; value: number; fillPx: number; trackPx: number; text: string }

/** Every bar's rendered geometry and the value it claims (aria-valuenow, percent). */
function readBars(page: Page): Promise<BarReading[]> {
  return page.evaluate(() => [...document.querySelectorAll('.barset')].flatMap((set) => [...set.querySelectorAll('.bar')].map((row) => {
    const track = row.querySelector('.track')!;
    return {
      set: set.id,
      label: row.querySelector('.name')!.textContent!,
      value: Number(track.getAttribute('aria-valuenow')),
      fillPx: track.firstElementChild!.getBoundingClientRect().width,
      trackPx: track.getBoundingClientRect().width,
      text: row.querySelector('.v')!.textContent!,
    };
  })));
}

/** Streams `seconds` of media (tone + AU frames, or AU frames only) as fast as the server takes it. */
async function stream(c: EmoStreamClient, seconds: number, withAudio: boolean): Promise<void> {
  for (let k = 0; k < seconds * 50; k++) {
    if (withAudio) c.sendAudio(tone(320, k * 320), { sampleRate: 16000, channels: 1, ptsUs: k * 20_000 });
    // Intensities (the first 17) in 0-5, presences (the last 18) in 0-1, as the protocol requires.
    if (k % 2 === 0) c.sendAu(Array.from({ length: 35 }, (_, j) => (j < 17 ? ((k + j) % 7) / 3 : (k + j) % 2)), k * 20_000);
    if (k % 25 === 0) await new Promise((r) => setImmediate(r));
  }
}

/** Waits until the page has drawn every result of an ended session (the count, then two animation frames). */
async function caughtUp(page: Page, results: EmotionResult[]): Promise<void> {
  await until(async () => await page.evaluate(() => Number(document.getElementById('count')!.textContent)) === results.length, 'the page drew every result');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/**
 * Opens the page following a new session, streams `seconds` of media into it and ends it; resolves with the
 * session's results once the page has drawn them all. Ended first, so nothing changes while the page is measured.
 */
async function followedSession(page: Page, wsUrl: string, seconds: number, withAudio: boolean): Promise<EmotionResult[]> {
  const c = await EmoStreamClient.connect({ url: wsUrl });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  await page.goto(`${wsUrl.replace('ws://', 'http://')}/?follow=${encodeURIComponent(c.sessionId)}`);
  await page.waitForFunction(() => /Following session/.test(document.getElementById('status')!.textContent!));
  await stream(c, seconds, withAudio);
  await c.end();
  await reader;
  await caughtUp(page, results);
  return results;
}

test('web page in Chromium: bars as wide as their values, live label, no-voice state, share link, no 404', {
  skip: hasChromium() ? false : `needs Chromium at ${CHROMIUM} (apt-get install chromium)`,
  timeout: 120_000,
}, async (t) => {
  // maxPendingHops 64: media sent faster than real time keeps every window (3 s are 9 hops), whatever the load.
  const ts = await startTestServer('ws', { http: { staticDir: WEB_DIR }, streaming: { maxPendingHops: 64 } });
  const http = ts.url.replace('ws://', 'http://');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    // Reduced motion: the bars then have no width transition, so what is measured is the final width.
    const page = await browser.newPage({ viewport: { width: 1000, height: 1100 }, reducedMotion: 'reduce' });
    const failed: string[] = [];
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));

    // A session with voice and face, followed through the page's ?follow= link.
    const results = await followedSession(page, ts.url, 3, true);
    assert.ok(results.length >= 6, `${results.length} results for 3 s of media`);

    const bars = await readBars(page);
    const last = results.at(-1)!;
    const expected: Record<string, number[] | undefined> = { 'bars-speech': last.speech?.probs, 'bars-face': last.face?.probs, // The combined bars show the smoothed posterior when results carry one (protocol 1.1), as the page says.
    'bars-fused': (last as { smoothed?: { probs: number[] } | null }).smoothed?.probs ?? last.fused?.probs };
    assert.equal(bars.length, 24, 'three sets of eight bars');
    for (const b of bars) {
      const value = expected[b.set]![['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'].indexOf(b.label)];
      assert.ok(b.trackPx > 50, `${b.set} ${b.label}: the track is laid out (${b.trackPx} px)`);
      assert.ok(Math.abs(b.value - value * 100) <= 0.5, `${b.set} ${b.label}: shows ${b.value} for ${value}`);
      // The fill is as wide as its value: within a pixel of value x track width.
      assert.ok(Math.abs(b.fillPx - value * b.trackPx) <= 1, `${b.set} ${b.label}: fill ${b.fillPx.toFixed(1)} px for ${(value * 100).toFixed(1)} % of ${b.trackPx.toFixed(1)} px`);
    }
    assert.ok(bars.some((b) => b.fillPx > 10), 'some bar visibly filled');
    const shown = await page.evaluate(() => ({
      label: document.getElementById('current-label')!.textContent,
      live: document.getElementById('current-label')!.getAttribute('aria-live'),
      voice: document.getElementById('voice-state')!.textContent,
      face: document.getElementById('face-state')!.textContent,
      cadence: document.getElementById('cadence')!.textContent,
    }));
    assert.equal(shown.label, last.fused!.label, 'without smoothing the current label is the fused label');
    assert.equal(shown.live, 'polite', 'the current label is announced to screen readers');
    assert.equal(shown.voice, 'voice heard');
    assert.equal(shown.face, 'face seen');
    assert.match(shown.cadence!, /every 0\.25 s, each covering the last 1 s/);
    const screenshot = join(tmpdir(), `emostream-web-page-${process.pid}-${Date.now()}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`screenshot: ${screenshot}`);
    console.log(`web page screenshot: ${screenshot}`);

    // A session with a face but no voice: the voice bars say so instead of keeping the old scores.
    const quietResults = await followedSession(page, ts.url, 2, false);
    assert.ok(quietResults.length >= 3, `${quietResults.length} results for the AU-only session`);
    assert.ok(quietResults.every((r) => r.speech === null));
    const noVoice = await page.evaluate(() => ({
      voice: document.getElementById('voice-state')!.textContent,
      empty: document.getElementById('bars-speech')!.dataset.empty,
      values: [...document.querySelectorAll('#bars-speech .v')].map((v) => v.textContent),
      widths: [...document.querySelectorAll('#bars-speech .fill')].map((f) => f.getBoundingClientRect().width),
    }));
    assert.equal(noVoice.voice, 'no voice');
    assert.equal(noVoice.empty, 'no voice');
    assert.ok(noVoice.values.every((v) => v === '–') && noVoice.widths.every((w) => w === 0), 'no stale voice scores');

    // The share link a streaming page offers is this page following that session.
    const link = await page.evaluate(async () => {
      const path = './urls.js'; // the page's module, resolved by the browser (not by TypeScript)
      return ((await import(path)) as { endpoints(): { followLink(id: string): string } }).endpoints().followLink('abc-123');
    });
    assert.equal(link, `${http}/?follow=abc-123`);
    assert.deepEqual(failed, [], 'every request the page made succeeded (favicon included)');
    const icon = await fetch(`${http}/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
  } finally {
    await browser.close();
    await ts.close();
  }
});
