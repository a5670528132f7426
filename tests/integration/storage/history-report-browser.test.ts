import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { EmoStreamClient } from '../../../clients/node/index.js';
import { AU_VECTOR_LENGTH } from '../../../src/protocol/labels.js';
import { CHROMIUM, hasChromium } from '../../browser/harness.js';
import { startTestServer } from '../../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The report page in Debian's Chromium: a real session (tiny models) is stored with two alerts, the page at
 * /sessions/:id draws the strongest-emotion band, the three per-source charts, the label shares, the minute table and
 * the alerts on every time axis, and its CSV link downloads the timeline. The screenshot is kept under os.tmpdir().
 */
test('report page: charts, shares, alerts on the time axis, export links, in real Chromium', { skip: hasChromium() ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emo-report-'));
  const ts = await startTestServer('uws', { storage: { databaseUrl: `sqlite:${join(dir, 'h.sqlite')}`, flushIntervalMs: 50 } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const c = await EmoStreamClient.connect({ url: ts.url, client: 'report-test' });
    let results = 0;
    const reader = (async () => { for await (const _r of c.results()) results++; })();
    // 6 s of a voiced chirp; the face (AU frames) only in the first half, so the face line breaks off.
    for (let s = 0; s < 6 * 16000; s += 320) {
      const pcm = Int16Array.from({ length: 320 }, (_, i) => Math.round(7000 * Math.sin((2 * Math.PI * (150 + (s + i) / 60) * (s + i)) / 16000)));
      c.sendAudio(pcm, { sampleRate: 16000, channels: 1, ptsUs: (s / 16000) * 1e6 });
      if (s % 640 === 0 && s < 3 * 16000) c.sendAu(Array.from({ length: AU_VECTOR_LENGTH }, (_, j) => (j < 17 ? ((s / 640 + j) % 9) / 4 : (s / 640 + j) % 2)), (s / 16000) * 1e6); // presences (the last 18) in 0-1
      await sleep(5);
    }
    await c.end();
    await reader;
    const history = ts.server.history!;
    history.recordAlert({ type: 'alert', sessionId: c.sessionId, rule: 'no-face-3s', hop: 14, atUs: 4_000_000, kind: 'no-face', value: 3, message: 'No face seen for 3 seconds' });
    history.recordAlert({ type: 'alert', sessionId: c.sessionId, rule: 'angry-5s', hop: 18, atUs: 5_000_000, kind: 'label', value: 0.64, message: 'Anger stayed high (0.64) for 5 seconds' });
    const base = ts.url.replace('ws://', 'http://');
    for (let i = 0; i < 100; i++) {
      const s = (await (await fetch(`${base}/v1/sessions/${c.sessionId}`)).json()) as { results?: number; alerts?: unknown[] };
      if (s.results === results && s.alerts?.length === 2) break;
      await sleep(50);
    }
    const page = await browser.newPage({ viewport: { width: 1100, height: 1500 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${base}/sessions/${c.sessionId}`);
    await page.waitForSelector('body[data-ready]', { timeout: 15000 });
    assert.equal(await page.getAttribute('body', 'data-ready'), 'true', await page.textContent('#error') ?? '');
    const seen = await page.evaluate(() => ({
      bandBlocks: document.querySelectorAll('#band rect').length,
      charts: [...document.querySelectorAll('#charts svg')].map((s) => ({ source: s.getAttribute('data-source'), lines: s.querySelectorAll('polyline').length })),
      alertMarks: document.querySelectorAll('.alert-mark').length,
      alertRows: [...document.querySelectorAll('.alert-row')].map((r) => r.textContent),
      shareBars: document.querySelectorAll('.share-bar').length,
      minuteRows: document.querySelectorAll('#minutes tbody tr').length,
      headline: document.getElementById('headline')!.textContent,
      facts: document.getElementById('facts')!.textContent,
      csv: (document.getElementById('csv') as HTMLAnchorElement).href,
    }));
    const summary = (await (await fetch(`${base}/v1/sessions/${c.sessionId}`)).json()) as { labelShares: Record<string, number>; coverage: { face: number } };
    assert.equal(seen.bandBlocks, results, 'one block per result');
    assert.deepEqual(seen.charts.map((x) => x.source), ['Voice and face together', 'From the voice', 'From the face']);
    assert.ok(seen.charts.every((x) => x.lines >= 8), JSON.stringify(seen.charts));
    assert.equal(seen.alertMarks, 2 * 4, 'each alert on the band and on the three charts');
    assert.deepEqual(seen.alertRows, ['0:04No face seen for 3 seconds', '0:05Anger stayed high (0.64) for 5 seconds']);
    assert.equal(seen.shareBars, Object.keys(summary.labelShares).length);
    assert.equal(seen.minuteRows, 1);
    assert.match(seen.headline!, /The emotion read most often was “\w+”, for \d+% of the session\./);
    assert.match(seen.facts!, new RegExp(`${Math.round(summary.coverage.face * 100)}%of the time a face was seen`));
    assert.ok(summary.coverage.face > 0.2 && summary.coverage.face < 0.9, `face in part of the session: ${summary.coverage.face}`);
    const csv = await page.evaluate(async (url) => (await fetch(url)).text(), seen.csv);
    assert.equal(csv.trim().split('\n').length, results + 1);
    assert.ok(requests.every((u) => u.startsWith(base)), `nothing from outside: ${requests.filter((u) => !u.startsWith(base))}`);
    const shot = join(tmpdir(), `emostream-report-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`report page screenshot: ${shot}`);
  } finally {
    await browser.close();
    await ts.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
